// Edit history (Message.edits) and time windows on history (messages(since, until)), as a client
// uses them, on PGlite and on PostgreSQL.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import {
  backends,
  errorCode,
  ok,
  registerUser,
  startApp,
  type TestApp,
  type TestUser,
} from '../support/app.js';

const SEND = `mutation($input: SendMessageInput!) {
  sendMessage(input: $input) { id seq conversationId } }`;
const EDIT = `mutation($input: EditMessageInput!) { editMessage(input: $input) { id body editedAt } }`;
const DELETE = `mutation($id: ID!) { deleteMessage(messageId: $id) { id } }`;
const EDITS = `query($id: ID!) { node(id: $id) { ... on Message { body editedAt edits { body editedAt } } } }`;
const PAGE = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String,
                    $since: DateTime, $until: DateTime) {
  messages(conversationId: $id, first: $first, after: $after, last: $last, before: $before,
           since: $since, until: $until) {
    edges { cursor node { seq body createdAt edits { body } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
const IN_CONVERSATION = `query($id: ID!, $last: Int, $since: DateTime) {
  conversation(id: $id) { messages(last: $last, since: $since) { edges { node { seq } } } } }`;

interface Edit {
  body: string;
  editedAt: string;
}
interface EditsOf {
  node: { body: string | null; editedAt: string | null; edits: Edit[] } | null;
}
interface Page {
  messages: {
    edges: {
      cursor: string;
      node: { seq: number; body: string; createdAt: string; edits: { body: string }[] };
    }[];
    pageInfo: {
      hasNextPage: boolean;
      hasPreviousPage: boolean;
      startCursor: string | null;
      endCursor: string | null;
    };
  };
}

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

describe.each(backends())('edit history and time windows on $name', ({ name, available }) => {
  let app: TestApp;
  beforeAll(async () => {
    if (available) app = await startApp(name);
  });
  afterAll(async () => app?.close());

  const send = async (user: TestUser, input: Record<string, unknown>) =>
    ok(
      await app.gql<{ sendMessage: { id: string; seq: number; conversationId: string } }>(
        SEND,
        { input },
        user.token,
      ),
    ).sendMessage;
  const edit = async (user: TestUser, messageId: string, body: string) =>
    ok(
      await app.gql<{ editMessage: { editedAt: string } }>(
        EDIT,
        { input: { messageId, body } },
        user.token,
      ),
    ).editMessage;
  const editsOf = async (user: TestUser, id: string) =>
    ok(await app.gql<EditsOf>(EDITS, { id }, user.token)).node;
  const page = async (user: TestUser, vars: Record<string, unknown>) =>
    ok(await app.gql<Page>(PAGE, vars, user.token)).messages;
  const seqs = (p: Page['messages']) => p.edges.map((e) => e.node.seq);

  async function chat() {
    const [a, b] = await Promise.all([registerUser(app, 'A'), registerUser(app, 'B')]);
    const first = await send(a, { toPhone: b.phone, body: 'hello' });
    return { a, b, id: first.conversationId, firstId: first.id };
  }

  it.skipIf(!available)(
    'edits list the earlier bodies oldest first, with when each was replaced',
    async () => {
      const { a, b, id, firstId } = await chat();
      expect((await editsOf(b, firstId))!.edits).toEqual([]);
      const first = await edit(a, firstId, 'hello again');
      const second = await edit(a, firstId, 'hello, finally');
      // The same body again is no new version.
      await edit(a, firstId, 'hello, finally');
      const seen = (await editsOf(b, firstId))!;
      expect(seen.body).toBe('hello, finally');
      expect(seen.edits.map((e) => e.body)).toEqual(['hello', 'hello again']);
      expect(seen.edits.map((e) => e.editedAt)).toEqual([first.editedAt, second.editedAt]);
      expect(Date.parse(seen.edits[0]!.editedAt)).toBeLessThanOrEqual(
        Date.parse(seen.edits[1]!.editedAt),
      );

      // A page with many edited messages reads their edits in one statement.
      for (let i = 0; i < 5; i++) {
        const m = await send(b, { conversationId: id, body: `draft ${i}` });
        await edit(b, m.id, `final ${i}`);
      }
      const start = app.statements.length;
      const history = await page(a, { id, last: 10 });
      expect(history.edges.map((e) => e.node.edits.map((x) => x.body))).toEqual([
        ['hello', 'hello again'],
        ...[0, 1, 2, 3, 4].map((i) => [`draft ${i}`]),
      ]);
      const lookups = app.statements.slice(start).filter((q) => /message_edits/.test(q));
      expect(lookups).toHaveLength(1);
    },
  );

  it.skipIf(!available)(
    "a deleted message's earlier bodies are gone; a non-member sees nothing",
    async () => {
      const { a, b, id, firstId } = await chat();
      await edit(a, firstId, 'secret v2');
      await edit(a, firstId, 'secret v3');
      const stranger = await registerUser(app, 'C');
      expect(await editsOf(stranger, firstId)).toBeNull();
      expect(errorCode(await app.gql(PAGE, { id, since: minutesAgo(10) }, stranger.token))).toBe(
        'NOT_FOUND',
      );

      ok(await app.gql(DELETE, { id: firstId }, a.token));
      expect(await editsOf(b, firstId)).toEqual({
        body: null,
        editedAt: expect.any(String),
        edits: [],
      });
      const stored = await queryRows<{ n: number | string }>(
        app.database.db,
        sql`select count(*) as n from message_edits where conversation_id = ${id}`,
      );
      expect(Number(stored[0]!.n)).toBe(0);
    },
  );

  /**
   * Six messages: 1–3 sent three, two and one hours ago, 4–6 just now (created_at moved back in
   * the database: seq order and time order stay the same, as sending keeps them).
   */
  async function spread() {
    const { a, b, id } = await chat();
    for (let i = 2; i <= 6; i++) await send(i % 2 ? a : b, { conversationId: id, body: `m${i}` });
    await app.database.db.execute(
      sql`update messages set created_at = now() - (4 - seq) * interval '1 hour'
           where conversation_id = ${id} and seq <= 3`,
    );
    return { a, b, id };
  }

  it.skipIf(!available)(
    'an edit and a delete at once: the delete stands, with no body and no earlier body left',
    async () => {
      const { a, b, id } = await chat();
      for (let round = 0; round < 8; round++) {
        const m = await send(a, { conversationId: id, body: `round ${round}` });
        const [edited, deleted] = await Promise.all([
          app.gql(EDIT, { input: { messageId: m.id, body: `edited ${round}` } }, a.token),
          app.gql(DELETE, { id: m.id }, a.token),
        ]);
        ok(deleted);
        // The edit either went first (and its history went with the delete) or found it deleted.
        expect([undefined, 'BAD_USER_INPUT']).toContain(errorCode(edited));
        const seen = (await editsOf(b, m.id))!;
        expect(seen).toMatchObject({ body: null, edits: [] });
      }
    },
  );

  it.skipIf(!available)('the last 10 minutes, alone and with last: 2 and before', async () => {
    const { a, id } = await spread();
    const recent = await page(a, { id, since: minutesAgo(10) });
    expect(seqs(recent)).toEqual([4, 5, 6]);
    expect(recent.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: false });

    const newest = await page(a, { id, since: minutesAgo(10), last: 2 });
    expect(seqs(newest)).toEqual([5, 6]);
    expect(newest.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const older = await page(a, {
      id,
      since: minutesAgo(10),
      last: 2,
      before: newest.pageInfo.startCursor,
    });
    expect(seqs(older)).toEqual([4]);
    expect(older.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });

    const viaConversation = ok(
      await app.gql<{ conversation: { messages: { edges: { node: { seq: number } }[] } } }>(
        IN_CONVERSATION,
        { id, last: 2, since: minutesAgo(10) },
        a.token,
      ),
    );
    expect(viaConversation.conversation.messages.edges.map((e) => e.node.seq)).toEqual([5, 6]);
  });

  it.skipIf(!available)('a window in the past, with first and after', async () => {
    const { a, id } = await spread();
    const window = { since: minutesAgo(150), until: minutesAgo(30) };
    const all = await page(a, { id, ...window });
    expect(seqs(all)).toEqual([2, 3]);
    expect(all.edges.map((e) => e.node.body)).toEqual(['m2', 'm3']);
    expect(Date.parse(all.edges[0]!.node.createdAt)).toBeLessThan(Date.now() - 60 * 60_000);

    const first = await page(a, { id, ...window, first: 1 });
    expect(seqs(first)).toEqual([2]);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const next = await page(a, { id, ...window, first: 5, after: first.pageInfo.endCursor });
    expect(seqs(next)).toEqual([3]);
    expect(next.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

    // `until` alone, and a window before the conversation began.
    expect(seqs(await page(a, { id, until: minutesAgo(90) }))).toEqual([1, 2]);
    expect(seqs(await page(a, { id, until: minutesAgo(600) }))).toEqual([]);
    // The history without a window is unchanged.
    expect(seqs(await page(a, { id, last: 3 }))).toEqual([4, 5, 6]);
  });

  it.skipIf(!available)('since at or after until, or not a time, is BAD_USER_INPUT', async () => {
    const { a, id } = await chat();
    const at = minutesAgo(5);
    expect(errorCode(await app.gql(PAGE, { id, since: at, until: at }, a.token))).toBe(
      'BAD_USER_INPUT',
    );
    expect(errorCode(await app.gql(PAGE, { id, since: at, until: minutesAgo(10) }, a.token))).toBe(
      'BAD_USER_INPUT',
    );
    expect(errorCode(await app.gql(PAGE, { id, since: 'yesterday' }, a.token))).toBe(
      'BAD_USER_INPUT',
    );
  });
});
