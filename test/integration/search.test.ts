// searchMessages as a client uses it, on PGlite and on PostgreSQL: words, parts of words, text
// without spaces (Japanese), ranking, snippets, who may find what, and paging.
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

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id conversationId } }`;
const GROUP = `mutation($input: CreateGroupConversationInput!) {
  createGroupConversation(input: $input) { id } }`;
const DELETE = `mutation($id: ID!) { deleteMessage(messageId: $id) { id } }`;
const LEAVE = `mutation($id: ID!) { leaveConversation(conversationId: $id) }`;
const EDIT = `mutation($input: EditMessageInput!) { editMessage(input: $input) { id } }`;
const SEARCH = `query($query: String!, $conversationId: ID, $first: Int, $after: String) {
  searchMessages(query: $query, conversationId: $conversationId, first: $first, after: $after) {
    edges { cursor snippet node { id conversationId body sender { id } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;

interface Results {
  searchMessages: {
    edges: {
      cursor: string;
      snippet: string;
      node: { id: string; conversationId: string; body: string; sender: { id: string } };
    }[];
    pageInfo: {
      hasNextPage: boolean;
      hasPreviousPage: boolean;
      startCursor: string | null;
      endCursor: string | null;
    };
  };
}

describe.each(backends())('searchMessages on $name', ({ name, available }) => {
  let app: TestApp;
  beforeAll(async () => {
    if (available) app = await startApp(name);
  });
  afterAll(async () => app?.close());

  const send = async (user: TestUser, conversationId: string, body: string) =>
    ok(
      await app.gql<{ sendMessage: { id: string } }>(
        SEND,
        { input: { conversationId, body } },
        user.token,
      ),
    ).sendMessage.id;
  const group = async (owner: TestUser, members: TestUser[]) =>
    ok(
      await app.gql<{ createGroupConversation: { id: string } }>(
        GROUP,
        { input: { title: 'Team', memberPhones: members.map((m) => m.phone) } },
        owner.token,
      ),
    ).createGroupConversation.id;
  const search = async (user: TestUser, vars: Record<string, unknown>) =>
    ok(await app.gql<Results>(SEARCH, vars, user.token)).searchMessages;
  const bodies = (r: Results['searchMessages']) => r.edges.map((e) => e.node.body);

  it.skipIf(!available)(
    'finds words, parts of words and Japanese text, with the match marked',
    async () => {
      const [a, b] = await Promise.all([registerUser(app, 'A'), registerUser(app, 'B')]);
      const id = await group(a, [b]);
      await send(a, id, 'What unbelievable weather today');
      await send(b, id, '明日東京に行きます');
      await send(b, id, 'Nothing to see here');

      const word = await search(b, { query: 'WEATHER' });
      expect(bodies(word)).toEqual(['What unbelievable weather today']);
      expect(word.edges[0]!.snippet).toBe('What unbelievable «weather» today');
      expect(word.edges[0]!.node.sender.id).toBe(a.id);

      const part = await search(b, { query: 'believ' });
      expect(bodies(part)).toEqual(['What unbelievable weather today']);
      expect(part.edges[0]!.snippet).toBe('What un«believ»able weather today');

      // Two characters: within one conversation; three: across all of them.
      const japanese = await search(a, { query: '東京', conversationId: id });
      expect(bodies(japanese)).toEqual(['明日東京に行きます']);
      expect(japanese.edges[0]!.snippet).toBe('明日«東京»に行きます');
      const everywhere = await search(a, { query: '東京に' });
      expect(everywhere.edges.map((e) => e.snippet)).toEqual(['明日«東京に»行きます']);
    },
  );

  it.skipIf(!available)(
    'ranks the query as typed above its words apart, then newest first',
    async () => {
      const [a, b] = await Promise.all([registerUser(app, 'A'), registerUser(app, 'B')]);
      const id = await group(a, [b]);
      await send(a, id, 'A report for the quarterly planning meeting');
      await send(b, id, 'The quarterly report is attached');
      await send(a, id, 'unrelated');
      await send(b, id, 'quarterly report, second copy');
      const found = await search(a, { query: 'quarterly report' });
      expect(bodies(found)).toEqual([
        // Both have the words side by side (the newer first), then the one with them apart.
        'quarterly report, second copy',
        'The quarterly report is attached',
        'A report for the quarterly planning meeting',
      ]);
      expect(found.edges[1]!.snippet).toBe('The «quarterly report» is attached');
      // A match by words apart: the words are marked.
      expect(found.edges[2]!.snippet).toContain('«quarterly»');
      expect(found.edges[2]!.snippet).toContain('«report»');
    },
  );

  it.skipIf(!available)(
    'never finds a deleted message, one of a conversation left, or one never joined',
    async () => {
      const [a, b, c] = await Promise.all([
        registerUser(app, 'A'),
        registerUser(app, 'B'),
        registerUser(app, 'C'),
      ]);
      const shared = await group(a, [b]);
      const left = await group(b, [a]);
      const others = await group(b, [c]);
      await send(a, shared, 'zebra kept');
      const gone = await send(a, shared, 'zebra deleted');
      ok(await app.gql(DELETE, { id: gone }, a.token));
      await send(b, left, 'zebra in the room A left');
      ok(await app.gql(LEAVE, { id: left }, a.token));
      await send(b, others, 'zebra among others');

      expect(bodies(await search(a, { query: 'zebra' }))).toEqual(['zebra kept']);
      expect(bodies(await search(b, { query: 'zebra' })).sort()).toEqual(
        ['zebra among others', 'zebra in the room A left', 'zebra kept'].sort(),
      );
      // conversationId narrows; one the caller is not in reads as missing.
      expect(bodies(await search(b, { query: 'zebra', conversationId: others }))).toEqual([
        'zebra among others',
      ]);
      expect(
        errorCode(await app.gql(SEARCH, { query: 'zebra', conversationId: others }, a.token)),
      ).toBe('NOT_FOUND');
      expect(
        errorCode(await app.gql(SEARCH, { query: 'zebra', conversationId: left }, a.token)),
      ).toBe('NOT_FOUND');
      // Short text is searched within one conversation.
      expect(bodies(await search(c, { query: 'ze', conversationId: others }))).toEqual([
        'zebra among others',
      ]);
    },
  );

  it.skipIf(!available)(
    'finds an edited message by its new words only; a user in no conversation finds nothing',
    async () => {
      const [a, b, loner] = await Promise.all([
        registerUser(app, 'A'),
        registerUser(app, 'B'),
        registerUser(app, 'C'),
      ]);
      const id = await group(a, [b]);
      const edited = await send(a, id, 'walrus sighting');
      ok(await app.gql(EDIT, { input: { messageId: edited, body: 'narwhal sighting' } }, a.token));
      // The stored words (messages.body_tsv) follow the body: by word and by substring alike.
      expect(bodies(await search(b, { query: 'narwhal' }))).toEqual(['narwhal sighting']);
      expect(bodies(await search(b, { query: 'walrus' }))).toEqual([]);
      expect(bodies(await search(b, { query: 'arwha' }))).toEqual(['narwhal sighting']);
      expect(bodies(await search(loner, { query: 'narwhal' }))).toEqual([]);
    },
  );

  it.skipIf(!available)('pages with after, without repeats', async () => {
    const a = await registerUser(app, 'A');
    const b = await registerUser(app, 'B');
    const id = await group(a, [b]);
    for (let i = 1; i <= 7; i++) await send(i % 2 ? a : b, id, `giraffe note ${i}`);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page: Results['searchMessages'] = await search(a, {
        query: 'giraffe',
        first: 3,
        after,
      });
      pages += 1;
      expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
      seen.push(...bodies(page));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    // All of equal rank: newest first, each once.
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1].map((i) => `giraffe note ${i}`));
  });

  it.skipIf(!available)(
    'long bodies give a snippet around the match, whole characters',
    async () => {
      const [a, b] = await Promise.all([registerUser(app, 'A'), registerUser(app, 'B')]);
      const id = await group(a, [b]);
      const before = '👨‍👩‍👧'.repeat(100);
      const after = 'é'.normalize('NFD').repeat(100);
      await send(a, id, `${before} Needle ${after}`);
      const [hit] = (await search(b, { query: 'needle' })).edges;
      expect(hit!.snippet).toBe(`…${'👨‍👩‍👧'.repeat(59)} «Needle» ${'é'.normalize('NFD').repeat(59)}…`);
    },
  );

  it.skipIf(!available)('a bad query is BAD_USER_INPUT', async () => {
    const a = await registerUser(app, 'A');
    const b = await registerUser(app, 'B');
    const id = await group(a, [b]);
    const code = async (vars: Record<string, unknown>) =>
      errorCode(await app.gql(SEARCH, vars, a.token));
    expect(await code({ query: '' })).toBe('BAD_USER_INPUT');
    expect(await code({ query: '   ' })).toBe('BAD_USER_INPUT');
    expect(await code({ query: 'x'.repeat(201) })).toBe('BAD_USER_INPUT');
    expect(await code({ query: 'ab' })).toBe('BAD_USER_INPUT');
    expect(await code({ query: 'abc', first: 51 })).toBe('BAD_USER_INPUT');
    expect(await code({ query: 'abc', after: 'nonsense' })).toBe('BAD_USER_INPUT');
    // Within a conversation, one character is enough; 200 characters are allowed.
    expect(bodies(await search(a, { query: 'a', conversationId: id }))).toEqual([]);
    expect(bodies(await search(a, { query: ` ${'x'.repeat(200)} ` }))).toEqual([]);
    // Syntax of the word search is no error either.
    expect(bodies(await search(a, { query: '"unclosed -or OR' }))).toEqual([]);
  });
});
