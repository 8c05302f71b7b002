import { randomBytes, randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backends,
  errorCode,
  ok,
  registerUser,
  startApp,
  type TestApp,
  type TestUser,
} from '../support/app.js';
import { createSendBatcher } from '../../src/db/send-batches.js';

const SEND = `mutation($input: SendMessageInput!) {
  sendMessage(input: $input) { id seq conversationId body clientMessageId status sender { id } } }`;
const PAGE = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  messages(conversationId: $id, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id seq body } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
const CONVERSATION = `query($id: ID!) { conversation(id: $id) { unreadCount lastMessage { seq body status } } }`;

interface Sent {
  sendMessage: {
    id: string;
    seq: number;
    conversationId: string;
    body: string;
    clientMessageId: string | null;
    status: string;
  };
}
interface Page {
  messages: {
    edges: { cursor: string; node: { id: string; seq: number; body: string | null } }[];
    pageInfo: {
      hasNextPage: boolean;
      hasPreviousPage: boolean;
      startCursor: string | null;
      endCursor: string | null;
    };
  };
}

describe.each(backends())('messages on $name', ({ name, available }) => {
  let app: TestApp;
  beforeAll(async () => {
    if (available) app = await startApp(name);
  });
  afterAll(async () => app?.close());

  const send = async (user: TestUser, input: Record<string, unknown>) =>
    ok(await app.gql<Sent>(SEND, { input }, user.token)).sendMessage;
  const page = async (user: TestUser, vars: Record<string, unknown>) =>
    ok(await app.gql<Page>(PAGE, vars, user.token)).messages;
  const seqs = (p: Page['messages']) => p.edges.map((e) => e.node.seq);
  const range = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => from + i);

  /** `count` groups of `owner` with `members`, on `on`; their ids. */
  const groups = (
    on: TestApp,
    owner: TestUser,
    members: TestUser[],
    count: number,
    title: string,
  ) =>
    Promise.all(
      range(1, count).map(
        async (i) =>
          ok(
            await on.gql<{ createGroupConversation: { id: string } }>(
              `mutation($i: CreateGroupConversationInput!) { createGroupConversation(input: $i) { id } }`,
              { i: { title: `${title} ${i}`, memberPhones: members.map((m) => m.phone) } },
              owner.token,
            ),
          ).createGroupConversation.id,
      ),
    );

  async function chat(): Promise<{ a: TestUser; b: TestUser; id: string }> {
    const [a, b] = await Promise.all([registerUser(app, 'A'), registerUser(app, 'B')]);
    const first = await send(a, { toPhone: b.phone, body: 'hello' });
    return { a, b, id: first.conversationId };
  }

  it.skipIf(!available)('numbers concurrent sends 1..N without gaps or repeats', async () => {
    const { a, b, id } = await chat();
    const results = await Promise.all(
      range(1, 30).map((i) => send(i % 2 ? a : b, { conversationId: id, body: `m${i}` })),
    );
    expect(results.map((r) => r.seq).sort((x, y) => x - y)).toEqual(range(2, 31));
    expect(seqs(await page(a, { id, first: 100 }))).toEqual(range(1, 31));
  });

  it.skipIf(!available)(
    'a send retried concurrently with one clientMessageId stores ONE message',
    async () => {
      const { a, b, id } = await chat();
      const clientMessageId = randomUUID();
      const attempts = await Promise.all([
        ...range(1, 6).map(() => send(a, { conversationId: id, body: 'once', clientMessageId })),
        ...range(1, 4).map(() => send(a, { toPhone: b.phone, body: 'once', clientMessageId })),
      ]);
      expect(new Set(attempts.map((r) => r.id)).size).toBe(1);
      expect(attempts[0]!.seq).toBe(2);
      expect(attempts[0]!.clientMessageId).toBe(clientMessageId);
      // The retries took no seq: the next message is 3, and history holds exactly one "once".
      const next = await send(a, {
        conversationId: id,
        body: 'next',
        clientMessageId: randomUUID(),
      });
      expect(next.seq).toBe(3);
      const history = await page(b, { id, last: 10 });
      expect(history.edges.map((e) => e.node.body)).toEqual(['hello', 'once', 'next']);
      // The same clientMessageId from another sender is another message.
      const fromB = await send(b, { conversationId: id, body: 'mine', clientMessageId });
      expect(fromB.seq).toBe(4);
    },
  );

  it.skipIf(!available)(
    'sends into one conversation at once commit together, each answered with its own message',
    async () => {
      const [a, b, c, outsider] = await Promise.all(
        ['A', 'B', 'C', 'Outsider'].map((n) => registerUser(app, n)),
      );
      const [id] = await groups(app, a!, [b!, c!], 1, 'Busy');
      const retried = randomUUID();
      const before = app.statements.length;
      const sends = [
        ...range(1, 60).map((i) => ({ user: [a, b, c][i % 3]!, body: `m${i}`, cmid: null })),
        // A retry storm: one message. B using the same client message id is another message.
        ...range(1, 8).map(() => ({ user: a!, body: 'retried', cmid: retried })),
        { user: b!, body: 'same id, other sender', cmid: retried },
      ];
      const [results, refused] = await Promise.all([
        Promise.all(
          sends.map(({ user, body, cmid }) =>
            send(user, { conversationId: id, body, clientMessageId: cmid }),
          ),
        ),
        // A non-member's sends travel in the same batches and are refused alone.
        Promise.all(
          range(1, 5).map(async (i) =>
            errorCode(
              await app.gql(
                SEND,
                { input: { conversationId: id, body: `x${i}` } },
                outsider!.token,
              ),
            ),
          ),
        ),
      ]);
      expect(refused).toEqual(range(1, 5).map(() => 'NOT_FOUND'));
      // Everyone got their own message back.
      results.forEach((r, i) => expect(r.body).toBe(sends[i]!.body));
      const retries = results.filter((_, i) => sends[i]!.cmid === retried && sends[i]!.user === a);
      expect(new Set(retries.map((r) => r.id)).size).toBe(1);
      const distinct = [...new Map(results.map((r) => [r.id, r])).values()];
      expect(distinct.map((r) => r.seq).sort((x, y) => x - y)).toEqual(range(1, 62));
      const history = await page(c!, { id, first: 100 });
      expect(seqs(history)).toEqual(range(1, 62));
      expect(history.edges.filter((e) => e.node.body === 'retried')).toHaveLength(1);
      expect(history.edges.some((e) => e.node.body?.startsWith('x'))).toBe(false);
      // On PostgreSQL they were gathered: far fewer send statements than sends. (PGlite runs
      // each statement on this thread, so the next send only arrives once the last is done.)
      const statements = app.statements
        .slice(before)
        .filter((q) => q.includes('parley_send_batch')).length;
      expect(statements).toBeGreaterThan(0);
      if (name === 'postgres') expect(statements).toBeLessThan(sends.length / 2);
    },
  );

  it.skipIf(!available)(
    'sends into many conversations at once, on two instances, commit in shared batches: each once, gap-free',
    async () => {
      // On PostgreSQL two instances share a database (and the token key); PGlite is one
      // process's database.
      const env = { JWT_SECRET: randomBytes(32).toString('hex') };
      const one = name === 'postgres' ? await startApp(name, { env }) : app;
      const two =
        name === 'postgres' ? await startApp(name, { env, databaseUrl: one.databaseUrl! }) : app;
      try {
        const [a, b] = await Promise.all([registerUser(one, 'A'), registerUser(one, 'B')]);
        const ids = await groups(one, a!, [b!], 12, 'Room');
        const before = [one.statements.length, two.statements.length] as const;
        // The instances walk the rooms in opposite orders, each room several times, and every
        // room also gets one send retried on both instances at once.
        const plan = (instance: TestApp, order: string[], tag: string) =>
          range(1, 5).flatMap((round) =>
            order.map((id, i) => ({
              instance,
              user: (round + i) % 2 ? a! : b!,
              input: { conversationId: id, body: `${tag}${round}-${i}` },
            })),
          );
        const retried = ids.map((id) => ({
          conversationId: id,
          body: 'retried',
          clientMessageId: randomUUID(),
        }));
        const sends = [
          ...plan(one, ids, 'x'),
          ...plan(two, [...ids].reverse(), 'y'),
          ...retried.flatMap((input) => [
            { instance: one, user: a!, input },
            { instance: two, user: a!, input },
          ]),
        ];
        const results = await Promise.all(
          sends.map(
            async ({ instance, user, input }) =>
              ok(await instance.gql<Sent>(SEND, { input }, user.token)).sendMessage,
          ),
        );
        results.forEach((r, i) => {
          expect(r.conversationId).toBe(sends[i]!.input.conversationId);
          expect(r.body).toBe(sends[i]!.input.body);
        });
        for (const [k, input] of retried.entries()) {
          const answers = results.filter((r, i) => sends[i]!.input === input);
          expect(new Set(answers.map((r) => r.id)).size, `room ${k}`).toBe(1);
        }
        for (const id of ids) {
          // 5 + 5 sends and one retried send: seqs 1..11, each answered once.
          const mine = [
            ...new Map(
              results.filter((r) => r.conversationId === id).map((r) => [r.id, r]),
            ).values(),
          ];
          expect(mine.map((r) => r.seq).sort((x, y) => x - y)).toEqual(range(1, 11));
          const history = ok(await one.gql<Page>(PAGE, { id, first: 100 }, a!.token)).messages;
          expect(seqs(history)).toEqual(range(1, 11));
          expect(history.edges.filter((e) => e.node.body === 'retried')).toHaveLength(1);
        }
        // Gathered: fewer send statements than sends (how many share one depends on how many
        // are waiting when a batch can start; the next case makes one batch of all).
        const statements = [
          ...one.statements.slice(before[0]),
          ...(two === one ? [] : two.statements.slice(before[1])),
        ].filter((q) => q.includes('parley_send_batch')).length;
        expect(statements).toBeGreaterThan(0);
        expect(statements).toBeLessThan(sends.length);
      } finally {
        if (one !== app) await Promise.all([one.close(), two.close()]);
      }
    },
  );

  it.skipIf(!available)(
    'sends waiting together go in one statement across conversations, each in arrival order',
    async () => {
      const [a, b, outsider] = await Promise.all(
        ['A', 'B', 'Outsider'].map((n) => registerUser(app, n)),
      );
      const ids = await groups(app, a!, [b!], 6, 'Batch');
      // One batch at a time: everything sent in this turn of the event loop waits for the first.
      const batcher = createSendBatcher(app.database.db, { maxInFlight: 1 });
      const before = app.statements.length;
      // Rooms in no particular order, one id in upper case (the same conversation), and an
      // outsider's send among them.
      const items = [3, 0, 5, 3, 1, 4, 2, 0, 5, 1, 2, 4].map((k, i) => ({
        conversationId: i === 7 ? ids[k]!.toUpperCase() : ids[k]!,
        senderId: i % 2 ? a!.id : b!.id,
        body: `b${i}`,
        clientMessageId: null,
      }));
      const results = await Promise.all([
        ...items.map((item) => batcher.send(item)),
        batcher.send({ ...items[0]!, senderId: outsider!.id, body: 'outsider' }),
      ]);
      expect(
        app.statements.slice(before).filter((q) => q.includes('parley_send_batch')),
      ).toHaveLength(1);
      expect(results.at(-1)).toBeUndefined();
      for (const [k, id] of ids.entries()) {
        const mine = items.flatMap((item, i) =>
          item.conversationId.toLowerCase() === id ? [i] : [],
        );
        expect(mine.map((i) => results[i]!.message.body)).toEqual(mine.map((i) => `b${i}`));
        expect(
          mine.map((i) => results[i]!.message.seq),
          `room ${k}`,
        ).toEqual([1, 2]);
        expect(seqs(await page(b!, { id, last: 10 }))).toEqual([1, 2]);
      }
    },
  );

  // PostgreSQL only: a second connection holds a room's lock while the app sends (PGlite has one).
  if (name === 'postgres')
    it.skipIf(!available)(
      "a room whose lock is held past the statement timeout fails only its own sends, not the batch's others",
      async () => {
        const slow = await startApp(name, { env: { DB_STATEMENT_TIMEOUT_MS: '500' } });
        const holder = postgres(slow.databaseUrl!, { max: 1, onnotice: () => {} });
        try {
          const [a, b] = await Promise.all([registerUser(slow, 'A'), registerUser(slow, 'B')]);
          const ids = await groups(slow, a!, [b!], 4, 'Held');
          // The first room's lock is held (past the 500 ms timeout) while all eight go, in one batch.
          const held = await holder.reserve();
          await held`begin`;
          await held`select id from conversations where id = ${ids[0]!}::uuid for update`;
          const batcher = createSendBatcher(slow.database.db, { maxInFlight: 1 });
          const settled = await Promise.allSettled(
            ids.flatMap((id) =>
              [1, 2].map((k) =>
                batcher.send({
                  conversationId: id,
                  senderId: a!.id,
                  body: `h${k}`,
                  clientMessageId: null,
                }),
              ),
            ),
          );
          await held`commit`;
          held.release();
          expect(settled.map((r) => r.status)).toEqual([
            'rejected',
            'rejected',
            ...range(1, 6).map(() => 'fulfilled'),
          ]);
          for (const [k, id] of ids.entries()) {
            const bodies = ok(
              await slow.gql<Page>(PAGE, { id, last: 10 }, a!.token),
            ).messages.edges.map((e) => e.node.body);
            expect(bodies, `room ${k}`).toEqual(k === 0 ? [] : ['h1', 'h2']);
          }
        } finally {
          await holder.end();
          await slow.close();
        }
      },
    );

  it.skipIf(!available)('rejects bad sends with BAD_USER_INPUT and writes nothing', async () => {
    const { a, b, id } = await chat();
    const bad = [
      { conversationId: id, body: '' },
      { conversationId: id, body: '   \n ' },
      { conversationId: id, body: 'x'.repeat(4001) },
      { conversationId: id, toPhone: b.phone, body: 'both' },
      { body: 'neither' },
      { toPhone: '12345', body: 'bad phone' },
      { conversationId: id, body: 'long id', clientMessageId: 'c'.repeat(129) },
    ];
    for (const input of bad) {
      const res = await app.gql(SEND, { input }, a.token);
      expect(errorCode(res), JSON.stringify(input).slice(0, 80)).toBe('BAD_USER_INPUT');
    }
    const longest = await send(a, { conversationId: id, body: '😀'.repeat(4000) });
    expect(longest.seq).toBe(2);
    const after = await page(a, { id, last: 10 });
    expect(seqs(after)).toEqual([1, 2]);
    expect(
      errorCode(
        await app.gql(SEND, { input: { conversationId: randomUUID(), body: 'x' } }, a.token),
      ),
    ).toBe('NOT_FOUND');
    expect(
      errorCode(await app.gql(SEND, { input: { conversationId: 'nope', body: 'x' } }, a.token)),
    ).toBe('NOT_FOUND');
  });

  it.skipIf(!available)(
    'pages backward from the newest and forward from the oldest, with correct pageInfo at both ends',
    async () => {
      const { a, id } = await chat();
      for (let i = 2; i <= 25; i++) await send(a, { conversationId: id, body: `m${i}` });

      const newest = await page(a, { id, last: 10 });
      expect(seqs(newest)).toEqual(range(16, 25));
      expect(newest.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
      const middle = await page(a, { id, last: 10, before: newest.pageInfo.startCursor });
      expect(seqs(middle)).toEqual(range(6, 15));
      expect(middle.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
      const oldest = await page(a, { id, last: 10, before: middle.pageInfo.startCursor });
      expect(seqs(oldest)).toEqual(range(1, 5));
      expect(oldest.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });

      const first = await page(a, { id, first: 10 });
      expect(seqs(first)).toEqual(range(1, 10));
      expect(first.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
      const second = await page(a, { id, first: 10, after: first.pageInfo.endCursor });
      expect(seqs(second)).toEqual(range(11, 20));
      const last = await page(a, { id, first: 10, after: second.pageInfo.endCursor });
      expect(seqs(last)).toEqual(range(21, 25));
      expect(last.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
      const beyond = await page(a, { id, first: 10, after: last.pageInfo.endCursor });
      expect(beyond.edges).toEqual([]);
      expect(beyond.pageInfo).toMatchObject({
        hasPreviousPage: true,
        hasNextPage: false,
        startCursor: null,
      });

      // Without first/last: the newest 50.
      expect(seqs(await page(a, { id }))).toEqual(range(1, 25));
      // Conversation.messages is the same connection.
      const nested = ok(
        await app.gql<{ conversation: { messages: Page['messages'] } }>(
          `query($id: ID!) { conversation(id: $id) { messages(last: 3) { edges { node { seq } } pageInfo { hasPreviousPage } } } }`,
          { id },
          a.token,
        ),
      );
      expect(nested.conversation.messages.edges.map((e) => e.node.seq)).toEqual([23, 24, 25]);
      expect(nested.conversation.messages.pageInfo.hasPreviousPage).toBe(true);
    },
  );

  it.skipIf(!available)(
    'paging back through history while new messages arrive loses and repeats nothing',
    async () => {
      const { a, b, id } = await chat();
      for (let i = 2; i <= 30; i++) await send(a, { conversationId: id, body: `m${i}` });
      const newest = await page(b, { id, last: 7 });
      const collected = seqs(newest);
      let before = newest.pageInfo.startCursor;
      let extra = 0;
      for (;;) {
        // Someone keeps talking while we scroll back.
        await Promise.all([
          send(a, { conversationId: id, body: 'new' }),
          send(b, { conversationId: id, body: 'new' }),
        ]);
        extra += 2;
        const p = await page(b, { id, last: 7, before });
        collected.unshift(...seqs(p));
        if (!p.pageInfo.hasPreviousPage) break;
        before = p.pageInfo.startCursor;
      }
      expect(collected).toEqual(range(1, 30));
      // Syncing forward from the newest seen picks up exactly the new ones.
      const synced = await page(b, { id, first: 100, after: newest.pageInfo.endCursor });
      expect(seqs(synced)).toEqual(range(31, 30 + extra));
      expect(synced.edges.every((e) => e.node.body === 'new')).toBe(true);
    },
  );

  it.skipIf(!available)(
    'a page is one statement, plus the delivered mark when it moves; a non-member gets NOT_FOUND',
    async () => {
      const { a, b, id } = await chat();
      for (let i = 2; i <= 5; i++) await send(a, { conversationId: id, body: `m${i}` });
      const HISTORY = `query($id: ID!) { messages(conversationId: $id, last: 50) {
        edges { cursor node { id seq body createdAt sender { id displayName } } }
        pageInfo { hasPreviousPage startCursor } } }`;
      const read = async (user: TestUser) => {
        const startAt = app.statements.length;
        const res = await app.gql<{
          messages: { edges: { node: { seq: number; sender: { displayName: string } } }[] };
        }>(HISTORY, { id }, user.token);
        // Background work (the outbox drainer) is not the request's.
        const statements = app.statements.slice(startAt).filter((q) => !/\boutbox\b/.test(q));
        return { res, statements };
      };
      // B has not had messages 2..5 yet: the page, then the write that marks them delivered.
      const first = await read(b);
      const edges = ok(first.res).messages.edges;
      expect(edges.map((e) => e.node.seq)).toEqual(range(1, 5));
      expect(new Set(edges.map((e) => e.node.sender.displayName))).toEqual(new Set(['A']));
      expect(first.statements).toHaveLength(2);
      expect((await read(b)).statements).toHaveLength(1);
      const stranger = await registerUser(app, 'C');
      const refused = await read(stranger);
      expect(errorCode(refused.res)).toBe('NOT_FOUND');
      expect(refused.statements).toHaveLength(1);
    },
  );

  it.skipIf(!available)('rejects bad paging arguments', async () => {
    const { a, id } = await chat();
    for (const vars of [
      { id, first: 101 },
      { id, last: 101 },
      { id, first: -1 },
      { id, first: 5, last: 5 },
      { id, first: 5, after: 'garbage!' },
      { id, last: 5, before: 'Zm9vYmFy' },
    ]) {
      expect(errorCode(await app.gql(PAGE, vars, a.token)), JSON.stringify(vars)).toBe(
        'BAD_USER_INPUT',
      );
    }
    expect(seqs(await page(a, { id, first: 100 }))).toEqual([1]);
  });

  it.skipIf(!available)(
    'edits and deletes own messages only; a delete leaves a tombstone',
    async () => {
      const { a, b, id } = await chat();
      const msg = await send(a, { conversationId: id, body: 'tpyo' });
      const EDIT = `mutation($m: ID!, $body: String!) { editMessage(input: { messageId: $m, body: $body }) { id seq body editedAt deletedAt } }`;
      const DELETE = `mutation($m: ID!) { deleteMessage(messageId: $m) { id seq body deletedAt } }`;
      expect(errorCode(await app.gql(EDIT, { m: msg.id, body: 'hacked' }, b.token))).toBe(
        'FORBIDDEN',
      );
      expect(errorCode(await app.gql(DELETE, { m: msg.id }, b.token))).toBe('FORBIDDEN');
      expect(errorCode(await app.gql(EDIT, { m: msg.id, body: '' }, a.token))).toBe(
        'BAD_USER_INPUT',
      );
      expect(errorCode(await app.gql(EDIT, { m: 'not-an-id', body: 'x' }, a.token))).toBe(
        'BAD_USER_INPUT',
      );

      const edited = ok(
        await app.gql<{ editMessage: { body: string; editedAt: string | null; seq: number } }>(
          EDIT,
          { m: msg.id, body: 'typo' },
          a.token,
        ),
      );
      expect(edited.editMessage).toMatchObject({ body: 'typo', seq: msg.seq });
      expect(Date.parse(edited.editMessage.editedAt!)).not.toBeNaN();
      const deleted = ok(
        await app.gql<{ deleteMessage: { body: string | null; deletedAt: string | null } }>(
          DELETE,
          { m: msg.id },
          a.token,
        ),
      );
      expect(deleted.deleteMessage.body).toBeNull();
      expect(deleted.deleteMessage.deletedAt).not.toBeNull();
      expect(errorCode(await app.gql(EDIT, { m: msg.id, body: 'back' }, a.token))).toBe(
        'BAD_USER_INPUT',
      );

      const history = await page(b, { id, last: 10 });
      expect(history.edges.map((e) => [e.node.seq, e.node.body])).toEqual([
        [1, 'hello'],
        [2, null],
      ]);
    },
  );

  it.skipIf(!available)(
    'counts unread messages and moves the read position only forward',
    async () => {
      const { a, b, id } = await chat();
      const sent = [];
      for (let i = 2; i <= 6; i++) sent.push(await send(a, { conversationId: id, body: `m${i}` }));
      const MARK = `mutation($m: ID!) { markRead(messageId: $m) { id unreadCount } }`;
      const unread = async (u: TestUser) =>
        ok(await app.gql<{ conversation: { unreadCount: number } }>(CONVERSATION, { id }, u.token))
          .conversation.unreadCount;
      expect(await unread(b)).toBe(6);
      expect(await unread(a)).toBe(0); // own messages count as read
      const marked = ok(
        await app.gql<{ markRead: { unreadCount: number } }>(MARK, { m: sent[3]!.id }, b.token),
      ); // seq 5
      expect(marked.markRead.unreadCount).toBe(1);
      ok(await app.gql(MARK, { m: sent[0]!.id }, b.token)); // seq 2: must not move back
      expect(await unread(b)).toBe(1);
      expect(errorCode(await app.gql(MARK, { m: 'bad' }, b.token))).toBe('BAD_USER_INPUT');
      await send(b, { conversationId: id, body: 'reply' });
      expect(await unread(b)).toBe(0);
      expect(await unread(a)).toBe(1);
    },
  );

  it.skipIf(!available)(
    'shows the sender SENT, then DELIVERED when fetched, then READ',
    async () => {
      const [a, b, c] = await Promise.all([
        registerUser(app),
        registerUser(app),
        registerUser(app),
      ]);
      const group = ok(
        await app.gql<{ createGroupConversation: { id: string } }>(
          `mutation($input: CreateGroupConversationInput!) { createGroupConversation(input: $input) { id } }`,
          { input: { title: 'Status', memberPhones: [b.phone, c.phone] } },
          a.token,
        ),
      ).createGroupConversation.id;
      const msg = await send(a, { conversationId: group, body: 'status?' });
      expect(msg.status).toBe('SENT');
      const status = async () =>
        ok(
          await app.gql<{ conversation: { lastMessage: { status: string } } }>(
            CONVERSATION,
            { id: group },
            a.token,
          ),
        ).conversation.lastMessage.status;
      await page(b, { id: group, last: 5 });
      expect(await status()).toBe('SENT'); // c has not fetched it yet
      await page(c, { id: group, last: 5 });
      expect(await status()).toBe('DELIVERED');
      ok(
        await app.gql(
          `mutation($m: ID!) { markRead(messageId: $m) { id } }`,
          { m: msg.id },
          b.token,
        ),
      );
      expect(await status()).toBe('DELIVERED');
      ok(
        await app.gql(
          `mutation($m: ID!) { markRead(messageId: $m) { id } }`,
          { m: msg.id },
          c.token,
        ),
      );
      expect(await status()).toBe('READ');
    },
  );
});
