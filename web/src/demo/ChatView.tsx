// One open conversation: history with scroll-back paging, live messages (messageAdded resumed
// from the newest cursor) and changes to them (messageUpdated: edits, deletes, reactions), the
// composer with a typing indicator both ways and a reply mode, and read ticks.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import {
  AddReactionDocument,
  MarkReadDocument,
  MessageAddedDocument,
  MessagesDocument,
  MessageUpdatedDocument,
  ReadReceiptUpdatedDocument,
  RemoveReactionDocument,
  SendMessageDocument,
  SetTypingDocument,
  TypingChangedDocument,
  type ConversationFieldsFragment,
  type MessageFieldsFragment,
  type MessageStatus,
  type ParleyClient,
  type PresenceStatus,
  type UserFieldsFragment,
} from '../../../client/src/index.js';
import { excerpt, MessageItem } from './MessageItem.js';
import { peerOf, PresenceDot, titleOf } from './parts.js';
import { newClientMessageId } from './session.js';

type Message = MessageFieldsFragment;

const PAGE = 30;
/** setTyping(true) is renewed this often while typing goes on (the server forgets after 5 s). */
const TYPING_RENEW_MS = 3_000;

/** Adds messages (new or older) keeping seq order, each seq once. */
function mergeMessages(list: Message[], incoming: Message[]): Message[] {
  const bySeq = new Map(list.map((m) => [m.seq, m]));
  for (const m of incoming) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/**
 * A message that just arrived (live, or the answer to my send): merged like any, and when it is a
 * reply not shown before, counted on the message it answers. The server does not announce the
 * answered message again for a new reply, so its shown count would stay behind.
 */
function addNewMessage(list: Message[], m: Message): Message[] {
  const isNew = !list.some((x) => x.seq === m.seq);
  const merged = mergeMessages(list, [m]);
  const answered = m.replyTo?.seq;
  if (!isNew || answered === undefined) return merged;
  return merged.map((x) => (x.seq === answered ? { ...x, replyCount: x.replyCount + 1 } : x));
}

/**
 * A newer state of messages already shown (one not shown, older than the page, stays out). The
 * quotes of replies to them follow: an edited body, or "deleted message".
 */
function replaceMessages(list: Message[], updated: Message[]): Message[] {
  const bySeq = new Map(updated.map((m) => [m.seq, m]));
  return list.map((m) => {
    const next = bySeq.get(m.seq) ?? m;
    const quoted = next.replyTo && bySeq.get(next.replyTo.seq);
    return quoted && next.replyTo
      ? { ...next, replyTo: { ...next.replyTo, body: quoted.body, deletedAt: quoted.deletedAt } }
      : next;
  });
}

export function ChatView({
  client,
  me,
  conversation,
  presence,
  onRead,
}: {
  client: ParleyClient;
  me: UserFieldsFragment;
  conversation: ConversationFieldsFragment;
  presence: ReadonlyMap<string, PresenceStatus>;
  onRead(conversationId: string, unreadCount: number): void;
}) {
  const conversationId = conversation.id;
  const [messages, setMessages] = useState<Message[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [older, setOlder] = useState<{ cursor: string | null; loading: boolean }>({
    cursor: null,
    loading: false,
  });
  const [typers, setTypers] = useState<ReadonlyMap<string, string>>(new Map());
  /** Each other member's read position, from readReceiptUpdated. */
  const [readBy, setReadBy] = useState<ReadonlyMap<string, number>>(new Map());
  const [draft, setDraft] = useState('');
  /** The message the composer answers (reply mode), if any. */
  const [replyingTo, setReplyingTo] = useState<Message | null>(null);
  const [error, setError] = useState<string | null>(null);
  const listRef = useRef<HTMLDivElement>(null);
  /** How to restore the scroll position after the next render (bottom, or keep after paging). */
  const scrollPlan = useRef<{ kind: 'bottom' } | { kind: 'keep'; fromBottom: number } | null>(null);
  const typingSentAt = useRef(0);
  const markedSeq = useRef(0);
  const composerRef = useRef<HTMLInputElement>(null);

  const nearBottom = () => {
    const el = listRef.current;
    return !el || el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  };

  // History first, then live from its newest cursor: nothing missed in between, nothing twice.
  // Changes are listened to before history is read: those that arrive first are applied on top
  // of it (every later change arrives later still, so the last one applied is the newest state).
  useEffect(() => {
    let stopLive = () => {};
    let cancelled = false;
    let early: Message[] | null = [];
    const stopUpdates = client.subscribe(
      MessageUpdatedDocument,
      { conversationId },
      {
        next: ({ messageUpdated: m }) => {
          if (early) early.push(m);
          else setMessages((list) => replaceMessages(list, [m]));
        },
      },
    );
    client
      .query(MessagesDocument, { conversationId, last: PAGE })
      .then(({ messages: page }) => {
        if (cancelled) return;
        scrollPlan.current = { kind: 'bottom' };
        setMessages(
          replaceMessages(
            page.edges.map((e) => e.node),
            early ?? [],
          ),
        );
        early = null;
        setOlder({
          cursor: page.pageInfo.hasPreviousPage ? (page.pageInfo.startCursor ?? null) : null,
          loading: false,
        });
        setLoaded(true);
        stopLive = client.subscribe(
          MessageAddedDocument,
          { conversationId, after: page.pageInfo.endCursor ?? null },
          {
            next: ({ messageAdded: m }) => {
              if (nearBottom()) scrollPlan.current = { kind: 'bottom' };
              setMessages((list) => addNewMessage(list, m));
            },
            error: (err) => setError(`${err.code}: ${err.message}`),
          },
        );
      })
      .catch((err: unknown) => setError(String(err)));
    const stops = [
      client.subscribe(
        TypingChangedDocument,
        { conversationId },
        {
          next: ({ typingChanged: t }) =>
            setTypers((known) => {
              const next = new Map(known);
              if (t.isTyping && t.user.id !== me.id) next.set(t.user.id, t.user.displayName);
              else next.delete(t.user.id);
              return next;
            }),
        },
      ),
      client.subscribe(
        ReadReceiptUpdatedDocument,
        { conversationId },
        {
          next: ({ readReceiptUpdated: r }) =>
            setReadBy((known) => new Map(known).set(r.user.id, r.lastReadSeq)),
        },
      ),
    ];
    return () => {
      cancelled = true;
      stopLive();
      stopUpdates();
      stops.forEach((stop) => stop());
    };
  }, [client, conversationId, me.id]);

  // A reply to a message deleted meanwhile cannot be sent: leave reply mode.
  useEffect(() => {
    if (!replyingTo) return;
    const now = messages.find((m) => m.seq === replyingTo.seq);
    if (now && (now.body === null || now.body === undefined)) setReplyingTo(null);
  }, [messages, replyingTo]);

  // Keep the view where the reader expects it.
  useLayoutEffect(() => {
    const el = listRef.current;
    const plan = scrollPlan.current;
    if (!el || !plan) return;
    scrollPlan.current = null;
    el.scrollTop = plan.kind === 'bottom' ? el.scrollHeight : el.scrollHeight - plan.fromBottom;
  }, [messages]);

  // Seeing a message reads it (and everything before it).
  const newest = messages.at(-1);
  useEffect(() => {
    if (!newest || newest.seq <= markedSeq.current) return;
    markedSeq.current = newest.seq;
    client
      .mutate(MarkReadDocument, { messageId: newest.id })
      .then(({ markRead }) => onRead(conversationId, markRead.unreadCount))
      .catch(() => undefined);
  }, [client, conversationId, newest, onRead]);

  const loadOlder = useCallback(async () => {
    if (!older.cursor || older.loading) return;
    setOlder((o) => ({ ...o, loading: true }));
    try {
      const { messages: page } = await client.query(MessagesDocument, {
        conversationId,
        last: PAGE,
        before: older.cursor,
      });
      const el = listRef.current;
      scrollPlan.current = { kind: 'keep', fromBottom: el ? el.scrollHeight - el.scrollTop : 0 };
      setMessages((list) =>
        mergeMessages(
          list,
          page.edges.map((e) => e.node),
        ),
      );
      setOlder({
        cursor: page.pageInfo.hasPreviousPage ? (page.pageInfo.startCursor ?? null) : null,
        loading: false,
      });
    } catch (err) {
      setError(String(err));
      setOlder((o) => ({ ...o, loading: false }));
    }
  }, [client, conversationId, older]);

  const setTyping = (isTyping: boolean) => {
    client.mutate(SetTypingDocument, { conversationId, isTyping }).catch(() => undefined);
  };

  const onDraft = (text: string) => {
    setDraft(text);
    const now = Date.now();
    if (text.trim() && now - typingSentAt.current > TYPING_RENEW_MS) {
      typingSentAt.current = now;
      setTyping(true);
    } else if (!text.trim() && typingSentAt.current) {
      typingSentAt.current = 0;
      setTyping(false);
    }
  };

  const send = async (e: React.FormEvent) => {
    e.preventDefault();
    const body = draft.trim();
    if (!body) return;
    const answering = replyingTo;
    setDraft('');
    setReplyingTo(null);
    if (typingSentAt.current) {
      typingSentAt.current = 0;
      setTyping(false);
    }
    try {
      const { sendMessage: m } = await client.mutate(SendMessageDocument, {
        input: {
          conversationId,
          body,
          clientMessageId: newClientMessageId(),
          ...(answering ? { replyToId: answering.id } : {}),
        },
      });
      scrollPlan.current = { kind: 'bottom' };
      setMessages((list) => addNewMessage(list, m));
    } catch (err) {
      setDraft(body);
      setReplyingTo(answering);
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  const react = useCallback(
    (m: Message, emoji: string, add: boolean) => {
      const done = add
        ? client.mutate(AddReactionDocument, { messageId: m.id, emoji }).then((d) => d.addReaction)
        : client
            .mutate(RemoveReactionDocument, { messageId: m.id, emoji })
            .then((d) => d.removeReaction);
      done
        .then((updated) => setMessages((list) => replaceMessages(list, [updated])))
        .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
    },
    [client],
  );

  const reply = useCallback((m: Message) => {
    setReplyingTo(m);
    composerRef.current?.focus();
  }, []);

  const others = conversation.members.filter((m) => m.id !== me.id);
  /** READ once every other member's receipt covers it; else what the server said. */
  const statusOf = (m: Message): MessageStatus =>
    others.length > 0 && others.every((o) => (readBy.get(o.id) ?? 0) >= m.seq) ? 'READ' : m.status;
  const peer = peerOf(conversation, me);
  const typing = [...typers.values()];

  return (
    <section className="chat-view" data-testid="chat-view" data-conversation-id={conversationId}>
      <header>
        {peer && <PresenceDot status={presence.get(peer.id)} />}
        <strong data-testid="chat-title">{titleOf(conversation, me)}</strong>
        <small>{peer ? peer.phone : `${conversation.members.length} members`}</small>
      </header>
      <div
        className="messages"
        data-testid="messages"
        data-loaded={loaded}
        ref={listRef}
        onScroll={(e) => {
          if (e.currentTarget.scrollTop < 40) void loadOlder();
        }}
      >
        {older.cursor && (
          <button className="older" data-testid="load-older" onClick={() => void loadOlder()}>
            {older.loading ? 'Loading…' : 'Older messages'}
          </button>
        )}
        {messages.map((m) => {
          const mine = m.sender.id === me.id;
          return (
            <MessageItem
              key={m.seq}
              message={m}
              mine={mine}
              showSender={!mine && conversation.kind === 'GROUP'}
              status={statusOf(m)}
              onReact={react}
              onReply={reply}
            />
          );
        })}
      </div>
      <p className="typing" data-testid="typing-indicator" hidden={typing.length === 0}>
        {typing.join(', ')} {typing.length === 1 ? 'is' : 'are'} typing…
      </p>
      {error && (
        <p className="error" data-testid="chat-view-error">
          {error}
        </p>
      )}
      {replyingTo && (
        <p className="replying-to" data-testid="replying-to" data-reply-to-seq={replyingTo.seq}>
          <span>
            Replying to <strong>{replyingTo.sender.displayName}</strong>:{' '}
            {excerpt(replyingTo.body ?? '')}
          </span>
          <button
            type="button"
            data-testid="cancel-reply"
            title="Cancel the reply"
            onClick={() => setReplyingTo(null)}
          >
            ✕
          </button>
        </p>
      )}
      <form className="composer" onSubmit={send}>
        <input
          ref={composerRef}
          data-testid="composer"
          placeholder="Message"
          value={draft}
          onChange={(e) => onDraft(e.target.value)}
          onBlur={() => {
            if (!typingSentAt.current) return;
            typingSentAt.current = 0;
            setTyping(false);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Escape') setReplyingTo(null);
          }}
          autoFocus
        />
        <button data-testid="send" type="submit">
          Send
        </button>
      </form>
    </section>
  );
}
