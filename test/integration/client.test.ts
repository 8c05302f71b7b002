// The typed client (client/) against a real server: typed operations over HTTP, errors with their
// codes, messageAdded subscriptions that come back after the network drops — every message
// exactly once, including those sent while the client was cut off — and reactions (seen live over
// messageUpdated), search with its marked snippets, and replies with the message they answer.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddReactionDocument,
  CreateGroupConversationDocument,
  DeleteMessageDocument,
  EditMessageDocument,
  MeDocument,
  MessageAddedDocument,
  MessagesDocument,
  MessageUpdatedDocument,
  NodeDocument,
  RemoveReactionDocument,
  RepliesDocument,
  SearchMessagesDocument,
  SendMessageDocument,
  createParleyClient,
  ParleyError,
  type MessageFieldsFragment,
  type ParleyClient,
} from '../../client/src/index.js';
import { registerUser, startApp, type TestApp, type TestUser } from '../support/app.js';

/**
 * A network the test can cut: while down, new connections go to a closed port (refused, as
 * graphql-ws sees an unreachable server); `drop()` also cuts the open ones (TCP reset).
 * `refused()` resolves once a connection was refused.
 */
function flakyNetwork() {
  const sockets = new Set<WebSocket>();
  let up = true;
  let onRefused = () => {};
  const refused = new Promise<void>((resolve) => (onRefused = resolve));
  class FlakyWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(up ? address : 'ws://127.0.0.1:9/graphql', protocols);
      if (!up) this.once('error', () => onRefused());
      sockets.add(this);
      this.once('close', () => sockets.delete(this));
    }
  }
  return {
    WebSocket: FlakyWebSocket,
    drop() {
      up = false;
      for (const socket of sockets) socket.terminate();
    },
    restore() {
      up = true;
    },
    refused: () => refused,
  };
}

/** Collects a subscription's messages; `until` waits for a condition on them. */
function collect() {
  const items: MessageFieldsFragment[] = [];
  const errors: ParleyError[] = [];
  let wake = () => {};
  return {
    items,
    errors,
    next(m: MessageFieldsFragment) {
      items.push(m);
      wake();
    },
    error(e: ParleyError) {
      errors.push(e);
      wake();
    },
    until(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `timed out with ${items.map((m) => m.body).join(', ')}; errors: ${errors.map((e) => e.code)}`,
              ),
            ),
          timeoutMs,
        );
        wake = () => {
          if (errors.length > 0) {
            clearTimeout(timer);
            reject(errors[0]!);
          } else if (predicate()) {
            clearTimeout(timer);
            resolve();
          }
        };
        wake();
      });
    },
  };
}

describe('the typed client (client/)', () => {
  let app: TestApp;
  let ann: TestUser;
  let bob: TestUser;
  const clients: ParleyClient[] = [];
  beforeAll(async () => {
    app = await startApp('pglite');
    ann = await registerUser(app, 'Ann');
    bob = await registerUser(app, 'Bob');
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.dispose()));
    await app?.close();
  });

  function clientOf(user: TestUser | null, webSocketImpl: unknown = WebSocket): ParleyClient {
    const client = createParleyClient({ url: app.url, token: user?.token ?? null, webSocketImpl });
    clients.push(client);
    return client;
  }

  it('runs typed operations and rejects with the API error code', async () => {
    const { me } = await clientOf(ann).query(MeDocument, {});
    expect(me).toMatchObject({ id: ann.id, phone: ann.phone, displayName: 'Ann' });

    const error = await clientOf(null)
      .query(MeDocument, {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParleyError);
    expect((error as ParleyError).code).toBe('UNAUTHENTICATED');
  });

  it('fetches a user, conversation or message by id alone, typed by what it is', async () => {
    const annClient = clientOf(ann);
    const { sendMessage } = await annClient.mutate(SendMessageDocument, {
      input: { toPhone: bob.phone, body: 'by id' },
    });
    const asBob = clientOf(bob);
    const message = (await asBob.query(NodeDocument, { id: sendMessage.id })).node;
    expect(message?.__typename === 'Message' && message.body).toBe('by id');
    const conversation = (await asBob.query(NodeDocument, { id: sendMessage.conversationId })).node;
    expect(conversation?.__typename === 'Conversation' && conversation.kind).toBe('DIRECT');
    const user = (await asBob.query(NodeDocument, { id: ann.id })).node;
    expect(user?.__typename === 'User' && user.displayName).toBe('Ann');
    const carol = await registerUser(app, 'Carol');
    expect((await clientOf(carol).query(NodeDocument, { id: sendMessage.id })).node).toBeNull();
  });

  it('a subscription that fails ends with a ParleyError carrying the code', async () => {
    const received = collect();
    clientOf(bob).subscribe(
      MessageAddedDocument,
      { conversationId: '00000000-0000-4000-8000-000000000000' },
      { next: (d) => received.next(d.messageAdded), error: (e) => received.error(e) },
    );
    await expect(received.until(() => false)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('messageAdded resumes after the network drops: every message once, in order, including those sent meanwhile', async () => {
    const annClient = clientOf(ann);
    const send = async (conversationId: string, body: string) =>
      (await annClient.mutate(SendMessageDocument, { input: { conversationId, body } }))
        .sendMessage;
    const { sendMessage: first } = await annClient.mutate(SendMessageDocument, {
      input: { toPhone: bob.phone, body: 'direct 1' },
    });
    const direct = first.conversationId;
    const { createGroupConversation: group } = await annClient.mutate(
      CreateGroupConversationDocument,
      { input: { title: 'Trip', memberPhones: [bob.phone] } },
    );
    // A conversation nothing will be delivered from before the network drops.
    const { createGroupConversation: quiet } = await annClient.mutate(
      CreateGroupConversationDocument,
      { input: { title: 'Quiet', memberPhones: [bob.phone] } },
    );
    await send(quiet.id, 'quiet before');
    const carol = await registerUser(app, 'Carol');
    const carolClient = clientOf(carol);

    const network = flakyNetwork();
    const connections: string[] = [];
    let onReconnected = () => {};
    const reconnected = new Promise<void>((resolve) => (onReconnected = resolve));
    const bobClient = createParleyClient({
      url: app.url,
      token: bob.token,
      webSocketImpl: network.WebSocket,
      onConnectionChange: (state) => {
        connections.push(state);
        if (state === 'reconnected') onReconnected();
      },
    });
    clients.push(bobClient);

    // One conversation, resumed by the server from the newest cursor the client delivered.
    const { messages: history } = await bobClient.query(MessagesDocument, {
      conversationId: direct,
      last: 10,
    });
    const one = collect();
    bobClient.subscribe(
      MessageAddedDocument,
      { conversationId: direct, after: history.pageInfo.endCursor },
      { next: (d) => one.next(d.messageAdded), error: (e) => one.error(e) },
    );
    // Every conversation, caught up by the client from the newest message it delivered in each.
    const all = collect();
    bobClient.subscribe(
      MessageAddedDocument,
      {},
      { next: (d) => all.next(d.messageAdded), error: (e) => all.error(e) },
    );
    // The stream of every conversation starts "now": send until it shows it is live.
    for (let i = 1; !all.items.some((m) => m.conversationId === group.id); i++) {
      await send(group.id, `group warm-up ${i}`);
      await all
        .until(() => all.items.some((m) => m.conversationId === group.id), 1_000)
        .catch(() => undefined);
    }
    await send(direct, 'direct 2');
    await all.until(() => all.items.some((m) => m.body === 'direct 2'));
    await one.until(() => one.items.some((m) => m.body === 'direct 2'));

    network.drop();
    // Sent while Bob is cut off, in both conversations.
    for (let i = 3; i <= 6; i++) await send(direct, `direct ${i}`);
    for (let i = 1; i <= 3; i++) await send(group.id, `group ${i}`);
    await send(quiet.id, 'quiet 1');
    // A chat opened with Bob while he is away.
    const { sendMessage: fromCarol } = await carolClient.mutate(SendMessageDocument, {
      input: { toPhone: bob.phone, body: 'carol 1' },
    });
    await carolClient.mutate(SendMessageDocument, {
      input: { conversationId: fromCarol.conversationId, body: 'carol 2' },
    });
    // At least one reconnect fails while the network is down (an error, not a close, to
    // graphql-ws): the client keeps trying.
    await network.refused();
    network.restore();
    await reconnected;
    // And right after he is back.
    await send(direct, 'direct 7');
    await send(group.id, 'group 4');

    await one.until(() => one.items.some((m) => m.body === 'direct 7'));
    await all.until(() =>
      ['direct 7', 'group 4', 'quiet 1', 'carol 2'].every((body) =>
        all.items.some((m) => m.body === body),
      ),
    );

    const bodies = (items: MessageFieldsFragment[], conversationId: string) =>
      items.filter((m) => m.conversationId === conversationId).map((m) => m.body);
    const directBodies = ['direct 2', 'direct 3', 'direct 4', 'direct 5', 'direct 6', 'direct 7'];
    expect(bodies(one.items, direct)).toEqual(directBodies);
    expect(bodies(all.items, direct)).toEqual(directBodies);
    expect(bodies(all.items, group.id).filter((b) => !b!.includes('warm-up'))).toEqual([
      'group 1',
      'group 2',
      'group 3',
      'group 4',
    ]);
    // Conversations it had delivered nothing from: the one that existed from where it stood when
    // the subscription started, the new one from its unread messages.
    expect(bodies(all.items, quiet.id)).toEqual(['quiet 1']);
    expect(bodies(all.items, fromCarol.conversationId)).toEqual(['carol 1', 'carol 2']);
    // Each seq once and in order, per conversation.
    for (const id of [direct, group.id, quiet.id, fromCarol.conversationId]) {
      const seqs = all.items.filter((m) => m.conversationId === id).map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    expect(connections[0]).toBe('connected');
    expect(connections).toContain('closed');
  }, 60_000); // the client's real reconnect backoff (0.5, 1, 2, 4 s…) runs while the network is down

  it('reacts and takes a reaction back; the other member sees each change live over messageUpdated', async () => {
    const annClient = clientOf(ann);
    const bobClient = clientOf(bob);
    const { createGroupConversation: group } = await annClient.mutate(
      CreateGroupConversationDocument,
      { input: { title: 'Reactions', memberPhones: [bob.phone] } },
    );
    const send = async (body: string) =>
      (
        await annClient.mutate(SendMessageDocument, {
          input: { conversationId: group.id, body },
        })
      ).sendMessage;
    const warmUp = await send('warm-up');
    const message = await send('Cake on Friday?');

    const updates = collect();
    bobClient.subscribe(
      MessageUpdatedDocument,
      { conversationId: group.id },
      { next: (d) => updates.next(d.messageUpdated), error: (e) => updates.error(e) },
    );
    // The stream starts "now": edit until an edit shows that it is live.
    for (let i = 1; updates.items.length === 0; i++) {
      await annClient.mutate(EditMessageDocument, {
        input: { messageId: warmUp.id, body: `warm-up ${i}` },
      });
      await updates.until(() => updates.items.length > 0, 1_000).catch(() => undefined);
    }
    const reactionsSeen = () => updates.items.filter((m) => m.id === message.id);

    const { addReaction } = await annClient.mutate(AddReactionDocument, {
      messageId: message.id,
      emoji: '🎉',
    });
    expect(addReaction.reactions).toEqual([{ emoji: '🎉', count: 1, reactedByMe: true }]);
    await updates.until(() => reactionsSeen().length === 1);
    // As Bob sees it: not his.
    expect(reactionsSeen()[0]!.reactions).toEqual([{ emoji: '🎉', count: 1, reactedByMe: false }]);

    const { addReaction: both } = await bobClient.mutate(AddReactionDocument, {
      messageId: message.id,
      emoji: '🎉',
    });
    expect(both.reactions).toEqual([{ emoji: '🎉', count: 2, reactedByMe: true }]);

    const { removeReaction } = await annClient.mutate(RemoveReactionDocument, {
      messageId: message.id,
      emoji: '🎉',
    });
    expect(removeReaction.reactions).toEqual([{ emoji: '🎉', count: 1, reactedByMe: false }]);
    await updates.until(() => reactionsSeen().length === 3);
    expect(reactionsSeen().map((m) => m.reactions)).toEqual([
      [{ emoji: '🎉', count: 1, reactedByMe: false }],
      [{ emoji: '🎉', count: 2, reactedByMe: true }],
      [{ emoji: '🎉', count: 1, reactedByMe: true }],
    ]);

    // Not an emoji: refused with the API's code.
    const refused = await annClient
      .mutate(AddReactionDocument, { messageId: message.id, emoji: 'cake' })
      .catch((e: unknown) => e);
    expect((refused as ParleyError).code).toBe('BAD_USER_INPUT');
  });

  it('searches the conversations of its user and gets the match marked in a snippet', async () => {
    const annClient = clientOf(ann);
    const { sendMessage } = await annClient.mutate(SendMessageDocument, {
      input: { toPhone: bob.phone, body: 'Shall we see the quokkas at the zoo on Sunday?' },
    });
    const { searchMessages } = await clientOf(bob).query(SearchMessagesDocument, {
      query: 'quokka',
    });
    expect(searchMessages.edges).toHaveLength(1);
    const [hit] = searchMessages.edges;
    expect(hit!.node).toMatchObject({
      id: sendMessage.id,
      conversationId: sendMessage.conversationId,
      sender: { displayName: 'Ann' },
    });
    expect(hit!.snippet).toBe('Shall we see the «quokka»s at the zoo on Sunday?');

    // Someone outside the conversation finds nothing.
    const carol = await registerUser(app, 'Carol');
    const { searchMessages: none } = await clientOf(carol).query(SearchMessagesDocument, {
      query: 'quokka',
    });
    expect(none.edges).toEqual([]);
  });

  it('sends a reply: it comes back with the message it answers, which counts and lists it', async () => {
    const annClient = clientOf(ann);
    const bobClient = clientOf(bob);
    const { sendMessage: question } = await annClient.mutate(SendMessageDocument, {
      input: { toPhone: bob.phone, body: 'Tea or coffee?' },
    });
    const { sendMessage: answer } = await bobClient.mutate(SendMessageDocument, {
      input: { conversationId: question.conversationId, body: 'Tea', replyToId: question.id },
    });
    expect(answer.replyTo).toEqual({
      id: question.id,
      seq: question.seq,
      body: 'Tea or coffee?',
      deletedAt: null,
      sender: { id: ann.id, displayName: 'Ann' },
    });
    expect(question.replyCount).toBe(0);

    const { node } = await annClient.query(RepliesDocument, { messageId: question.id });
    const thread = node && 'replies' in node ? node : null;
    expect(thread?.replyCount).toBe(1);
    expect(thread?.replies.edges.map((e) => e.node.id)).toEqual([answer.id]);

    // The answered message deleted: the reply quotes a tombstone.
    await annClient.mutate(DeleteMessageDocument, { messageId: question.id });
    const { messages } = await bobClient.query(MessagesDocument, {
      conversationId: question.conversationId,
      last: 1,
    });
    expect(messages.edges[0]!.node.replyTo).toMatchObject({ id: question.id, body: null });
    expect(messages.edges[0]!.node.replyTo?.deletedAt).toBeTruthy();
  });
});
