// The signed-in page: conversations (unread badges, presence dots), opening a chat by phone or
// email, searching messages (Search), and the open conversation (ChatView). One messageAdded
// stream for every conversation keeps the
// list current; presenceChanged keeps the dots current.
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  ConversationDocument,
  ConversationsDocument,
  MessageAddedDocument,
  PresenceChangedDocument,
  StartDirectConversationDocument,
  type ConversationFieldsFragment,
  type ParleyClient,
  type PresenceStatus,
  type UserFieldsFragment,
} from '../../../client/src/index.js';
import { ChatView } from './ChatView.js';
import { identifierOf, peerOf, PresenceDot, titleOf } from './parts.js';
import { Search } from './Search.js';

type Conversation = ConversationFieldsFragment;

/** The signed-in user: their email is theirs to see (null on everyone else). */
export type Me = UserFieldsFragment & { email?: string | null };

/** The newest message a conversation's entry has counted (0: none). */
const seqOf = (c: Conversation) => c.lastMessage?.seq ?? 0;

/** Newest activity first, as the API lists them. */
const byActivity = (a: Conversation, b: Conversation) => b.updatedAt.localeCompare(a.updatedAt);

export function Chat({
  client,
  me,
  onSignOut,
}: {
  client: ParleyClient;
  me: Me;
  onSignOut(): void;
}) {
  const [conversations, setConversations] = useState<Conversation[]>([]);
  const [presence, setPresence] = useState<ReadonlyMap<string, PresenceStatus>>(new Map());
  const [openId, setOpenId] = useState<string | null>(null);
  const [phone, setPhone] = useState('');
  const [error, setError] = useState<string | null>(null);
  // Read by the subscription callbacks, which outlive renders.
  const knownIds = useRef(new Set<string>());
  const openRef = useRef(openId);
  openRef.current = openId;
  const listRef = useRef(conversations);
  listRef.current = conversations;

  const merge = useCallback((incoming: Conversation[]) => {
    for (const c of incoming) knownIds.current.add(c.id);
    setConversations((list) => {
      const byId = new Map(list.map((c) => [c.id, c]));
      for (const c of incoming) {
        // An answer older than what the live stream already brought changes nothing.
        const known = byId.get(c.id);
        if (!known || seqOf(c) >= seqOf(known)) byId.set(c.id, c);
      }
      return [...byId.values()].sort(byActivity);
    });
    setPresence((known) => {
      const next = new Map(known);
      for (const c of incoming) {
        for (const m of c.members) if (m.presence) next.set(m.id, m.presence.status);
      }
      return next;
    });
  }, []);

  const load = useCallback(async () => {
    // The 20 most recent (a page, as the Conversations operation asks for).
    const data = await client.query(ConversationsDocument, {});
    merge(data.conversations.edges.map((e) => e.node));
  }, [client, merge]);

  /**
   * One conversation as the server has it now (its count included), fetched once at a time. If
   * the fetch fails, the next message of it fetches it again.
   */
  const refetching = useRef(new Set<string>());
  const refetch = useCallback(
    (id: string) => {
      if (refetching.current.has(id)) return;
      refetching.current.add(id);
      client
        .query(ConversationDocument, { id })
        .then((data) => data.conversation && merge([data.conversation]))
        .catch(() => knownIds.current.delete(id))
        .finally(() => refetching.current.delete(id));
    },
    [client, merge],
  );

  useEffect(() => {
    load().catch((err: unknown) => setError(String(err)));
    const stops = [
      client.subscribe(
        MessageAddedDocument,
        {},
        {
          next: ({ messageAdded: m }) => {
            // The open conversation marks itself read (and reports the count back).
            const unread = m.sender.id !== me.id && m.conversationId !== openRef.current;
            // A message the list's answer already counted is skipped; one past a gap (messages
            // sent between the list's answer and the stream going live) means the count is
            // behind: the conversation is fetched again, count and all.
            const shown = listRef.current.find((c) => c.id === m.conversationId);
            if (shown && m.seq > seqOf(shown) + 1) refetch(m.conversationId);
            setConversations((list) =>
              list
                .map((c) =>
                  c.id === m.conversationId && m.seq > seqOf(c)
                    ? {
                        ...c,
                        lastMessage: m,
                        updatedAt: m.createdAt,
                        unreadCount: c.unreadCount + (unread ? 1 : 0),
                      }
                    : c,
                )
                .sort(byActivity),
            );
            if (!knownIds.current.has(m.conversationId)) {
              // A conversation someone else just started with us (or the list's answer is not
              // in yet): fetched once, however many of its messages arrive before the answer.
              knownIds.current.add(m.conversationId);
              refetch(m.conversationId);
            }
          },
        },
      ),
      // Connected (again): the stream is about to go live, and counts and previews may have
      // moved since the first answer. Loading once more now narrows the window the stream
      // cannot cover; a gap in seq (above) closes what is left of it.
      client.ws.on('connected', () => {
        load().catch(() => undefined);
      }),
      client.subscribe(
        PresenceChangedDocument,
        {},
        {
          next: ({ presenceChanged: p }) =>
            setPresence((known) => new Map(known).set(p.user.id, p.status)),
        },
      ),
    ];
    return () => stops.forEach((stop) => stop());
  }, [client, me.id, load, merge, refetch]);

  const openByPhone = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const { startDirectConversation: c } = await client.mutate(
        StartDirectConversationDocument,
        identifierOf(phone),
      );
      merge([c]);
      setOpenId(c.id);
      setPhone('');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  /** Opens a conversation, fetching it first when the list does not have it. */
  const openConversation = useCallback(
    (id: string) => {
      if (listRef.current.some((c) => c.id === id)) {
        setOpenId(id);
        return;
      }
      client
        .query(ConversationDocument, { id })
        .then((data) => {
          if (!data.conversation) return;
          merge([data.conversation]);
          setOpenId(id);
        })
        .catch((err: unknown) => setError(String(err)));
    },
    [client, merge],
  );

  const searchTitle = useCallback(
    (id: string) => {
      const c = conversations.find((x) => x.id === id);
      return c ? titleOf(c, me) : null;
    },
    [conversations, me],
  );

  const onRead = useCallback((conversationId: string, unreadCount: number) => {
    setConversations((list) =>
      list.map((c) => (c.id === conversationId ? { ...c, unreadCount } : c)),
    );
  }, []);

  const open = conversations.find((c) => c.id === openId);
  return (
    <div className="chat">
      <aside>
        <header className="me" data-testid="me">
          <div>
            <strong>{me.displayName}</strong>
            {/* An account made with an email address has no phone. */}
            <small>{me.phone ?? me.email}</small>
          </div>
          <button data-testid="sign-out" onClick={onSignOut}>
            Sign out
          </button>
        </header>
        <form className="new-chat" onSubmit={openByPhone}>
          <input
            data-testid="new-chat-phone"
            type="text"
            placeholder="Open a chat by phone or email"
            value={phone}
            onChange={(e) => setPhone(e.target.value)}
            required
          />
          <button data-testid="new-chat-submit" type="submit">
            Open
          </button>
        </form>
        <Search
          client={client}
          titleOf={searchTitle}
          onResults={(ids) => {
            for (const id of ids) if (!listRef.current.some((c) => c.id === id)) refetch(id);
          }}
          onOpen={openConversation}
        />
        {error && (
          <p className="error" data-testid="chat-error">
            {error}
          </p>
        )}
        <ul className="conversations" data-testid="conversations">
          {conversations.map((c) => {
            const peer = peerOf(c, me);
            return (
              <li
                key={c.id}
                data-testid="conversation"
                data-conversation-id={c.id}
                data-title={titleOf(c, me)}
                className={c.id === openId ? 'open' : ''}
                onClick={() => setOpenId(c.id)}
              >
                {peer ? <PresenceDot status={presence.get(peer.id)} /> : <span className="dot" />}
                <div className="summary">
                  <strong>{titleOf(c, me)}</strong>
                  <small>
                    {c.lastMessage?.body ?? (c.lastMessage ? 'deleted' : 'no messages yet')}
                  </small>
                </div>
                {c.unreadCount > 0 && (
                  <span className="badge" data-testid="unread-badge">
                    {c.unreadCount}
                  </span>
                )}
              </li>
            );
          })}
        </ul>
      </aside>
      <main>
        {open ? (
          <ChatView
            key={open.id}
            client={client}
            me={me}
            conversation={open}
            presence={presence}
            onRead={onRead}
          />
        ) : (
          <p className="placeholder">
            Pick a conversation, or open one by phone number or email address.
          </p>
        )}
      </main>
    </div>
  );
}
