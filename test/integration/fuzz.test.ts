// Property-based fuzzing of every operation of the schema with random and hostile inputs
// (fast-check). For every response, whatever the input:
//  - HTTP status below 500 and a JSON GraphQL body; every error carries a contract code (an
//    INTERNAL_SERVER_ERROR caused by input is a bug);
//  - no stack trace, no SQL, no driver names in errors;
//  - a mutation that fails writes nothing (row counts and checksums of every table, new outbox
//    rows), a query writes nothing but delivery positions, an unauthenticated call nothing at all;
//  - nothing of another user's conversations: their rows never change, their message bodies and
//    ids never appear, and their ids answer exactly like ids that do not exist.
// Run sizes are bounded (`runs` below: full on PGlite, a third on PostgreSQL); the number of
// generated cases is printed at the end of each backend's suite.
import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { decodeMessageId, encodeMessageId } from '../../src/domain/ids.js';
import { detailedPng, uploadOk } from '../support/attachments.js';
import {
  backends,
  registerUser,
  startApp,
  uniquePhone,
  type BackendName,
  type TestApp,
  type TestUser,
} from '../support/app.js';

// ---------------------------------------------------------------------------------------------
// Transport and response checks

interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: Record<string, unknown>;
}

interface Reply {
  status: number;
  text: string;
  data: Record<string, unknown> | null | undefined;
  errors: GqlError[];
}

const ALLOWED_CODES = new Set([
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'BAD_REQUEST',
  // Push without VAPID keys (PostgreSQL here); the oracle admits it for the push operations only.
  'NOT_CONFIGURED',
]);
/** Automatic persisted queries: the protocol itself answers an unknown hash with this code. */
const APQ_CODES = new Set(['PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED']);

/** What must never reach a client: stack frames, SQL, driver and table internals. */
const LEAKS: readonly RegExp[] = [
  /\bat \S+ \(?[^\s()]+:\d+:\d+\)?/,
  /\.(?:ts|js|mjs|cjs):\d+/,
  /\b(?:select|insert|update|delete)\b[\s\S]{0,200}\b(?:from|into|set|where|returning)\b/i,
  /drizzle|postgres|pglite|sqlstate|duplicate key|violates|syntax error at or near/i,
  /invalid input syntax|invalid byte sequence|out of range for type|relation "/i,
  /password_hash|conversation_members|direct_conversations|last_read_seq/i,
];

class PropertyViolation extends Error {
  override name = 'PropertyViolation';
}
function violated(message: string): never {
  throw new PropertyViolation(message);
}

/** One POST to /graphql, the way a client sends it; `authorization` is the raw header. */
async function post(app: TestApp, body: unknown, authorization?: string): Promise<Reply> {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization !== undefined ? { authorization } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    violated(`HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 300)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    violated(
      `HTTP ${res.status} with a body that is not a GraphQL response: ${text.slice(0, 300)}`,
    );
  }
  const response = parsed as { data?: Record<string, unknown> | null; errors?: unknown };
  if (!('data' in response) && !('errors' in response)) {
    violated(`HTTP ${res.status} with neither data nor errors: ${text.slice(0, 300)}`);
  }
  if (response.errors !== undefined && !Array.isArray(response.errors)) {
    violated(`"errors" is not a list: ${text.slice(0, 300)}`);
  }
  return {
    status: res.status,
    text,
    data: response.data,
    errors: (response.errors as GqlError[] | undefined) ?? [],
  };
}

/** Every string inside a value (variables, headers, documents): what a message may echo back. */
function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      stringsOf(v, out);
    }
  }
  return out;
}

/** A raw body as the server decodes it, when it is JSON. */
function decoded(rawBody: unknown): unknown {
  if (typeof rawBody !== 'string') return undefined;
  try {
    return JSON.parse(rawBody) as unknown;
  } catch {
    return undefined;
  }
}

/** Removes echoes of the input (whole, JSON-escaped, or cut to 32/40 characters) from a text. */
function scrubEchoes(text: string, inputs: readonly string[]): string {
  let out = text;
  for (const s of inputs) {
    const forms = new Set<string>();
    for (const cut of [s, s.slice(0, 32), s.slice(0, 40)]) {
      forms.add(cut);
      forms.add(JSON.stringify(cut).slice(1, -1));
    }
    for (const form of forms) if (form.length >= 3) out = out.split(form).join(' ');
  }
  return out;
}

const codeOf = (e: GqlError | undefined): string | undefined =>
  e?.extensions?.['code'] as string | undefined;

/** The contract every response keeps, whatever was asked. */
function checkEnvelope(reply: Reply, inputs: readonly string[], opts: { apq?: boolean } = {}) {
  if (reply.status >= 500) {
    violated(`HTTP ${reply.status}: ${reply.text.slice(0, 500)}`);
  }
  if (reply.errors.length === 0 && (reply.data === null || reply.data === undefined)) {
    violated(`no data and no errors: ${reply.text.slice(0, 300)}`);
  }
  for (const error of reply.errors) {
    const code = codeOf(error);
    const allowed =
      code !== undefined && (ALLOWED_CODES.has(code) || (opts.apq === true && APQ_CODES.has(code)));
    if (!allowed) {
      violated(`error code ${String(code)} (HTTP ${reply.status}): ${JSON.stringify(error)}`);
    }
    if (typeof error.message !== 'string' || error.message.length === 0) {
      violated(`error without a message: ${JSON.stringify(error)}`);
    }
    for (const key of ['stacktrace', 'exception', 'originalError', 'stack']) {
      if (error.extensions && key in error.extensions) {
        violated(`error extensions carry "${key}": ${JSON.stringify(error).slice(0, 500)}`);
      }
    }
    const visible = scrubEchoes(
      `${error.message}\n${JSON.stringify(error.extensions ?? {})}`,
      inputs,
    );
    for (const leak of LEAKS) {
      if (leak.test(visible)) {
        violated(`error leaks internals (${leak}): ${JSON.stringify(error).slice(0, 500)}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The world: an attacker (alice) with her own conversations, and victims she has no access to

interface World {
  app: TestApp;
  backend: BackendName;
  alice: TestUser;
  bob: TestUser;
  frank: TestUser;
  carol: TestUser;
  dave: TestUser;
  /** In every victim message body and group title. */
  marker: string;
  ownConversationIds: string[];
  ownMessageIds: string[];
  /** Alice's groups and messages that leaveConversation and deleteMessage may use up. */
  disposableGroupIds: string[];
  disposableMessageIds: string[];
  /** Bob's (and frank's) messages in alice's conversations: visible to her, not hers to change. */
  bobMessageIds: string[];
  victimConversationIds: string[];
  victimMessageIds: string[];
  victimUserIds: string[];
  messageCursors: string[];
  conversationCursors: string[];
  victimCursors: string[];
  /** Registered phones alice may use freely: hers, bob's, frank's (never a victim's). */
  phones: string[];
  /** Uploads alice must never get attached: bob's, a victim's (sent), her own already sent. */
  unattachableUploadIds: string[];
  /** A group alice owns with bob and frank (roles, details, invites, removals). */
  ownerGroupId: string;
  /** Bob's group where alice is a MEMBER: admin actions there are FORBIDDEN. */
  memberGroupId: string;
  /** Alice's groups with bob that setMemberRole(OWNER) and removeMember may use up. */
  handoverGroupIds: string[];
  /** Frank's PUBLIC group: alice may see its details and join it (no marker in it). */
  publicGroupId: string;
  /** Invite codes of alice's groups (hers to revoke) and of bob's group (not hers). */
  ownInviteCodes: string[];
  memberInviteCode: string;
  /** Carol's invite code of a victim group: never given to joinConversation. */
  victimInviteCodes: string[];
  /** Alice's image upload, not sent: the only picture updateConversation may take. */
  avatarUploadId: string;
  /** Every registered user's id (alice's own, bob's, frank's, the victims'). */
  userIds: string[];
  /** Push endpoints alice registered in the world (PGlite only: no VAPID keys on PostgreSQL). */
  pushEndpoints: string[];
  /** A valid browser key pair for registerPushSubscription (p256dh, auth). */
  pushKeys: { p256dh: string; auth: string };
  /**
   * Calls the snapshot statement, built from the tables there are (see snapshotQuery), held in
   * a PL/pgSQL function so each connection plans it once: planned afresh, its ~30 scans of
   * tables of 16 partitions each were most of a case's database time.
   */
  snapshotSql: string;
}

async function must<T>(promise: Promise<{ data?: T | null; errors?: unknown[] }>): Promise<T> {
  const res = await promise;
  if (res.errors?.length || !res.data) throw new Error(`setup failed: ${JSON.stringify(res)}`);
  return res.data;
}

async function buildWorld(app: TestApp, backend: BackendName): Promise<World> {
  const [alice, bob, frank, carol, dave] = await Promise.all(
    ['Alice', 'Bob', 'Frank', 'Carol', 'Dave'].map((n) => registerUser(app, n)),
  );
  const marker = `VICTIM-${randomUUID()}`;
  const send = async (user: TestUser, input: Record<string, unknown>) =>
    (
      await must(
        app.gql<{ sendMessage: { id: string; conversationId: string } }>(
          `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id conversationId } }`,
          { input },
          user.token,
        ),
      )
    ).sendMessage;
  const group = async (
    user: TestUser,
    title: string,
    memberPhones: string[],
    more: Record<string, unknown> = {},
  ) =>
    (
      await must(
        app.gql<{ createGroupConversation: { id: string } }>(
          `mutation($input: CreateGroupConversationInput!) {
            createGroupConversation(input: $input) { id } }`,
          { input: { title, memberPhones, ...more } },
          user.token,
        ),
      )
    ).createGroupConversation.id;
  const as = (user: TestUser, query: string, variables: Record<string, unknown>) =>
    must(app.gql<Record<string, unknown>>(query, variables, user.token));
  const invite = async (user: TestUser, conversationId: string) =>
    (
      (await as(user, `mutation($id: ID!) { createInvite(conversationId: $id) { code } }`, {
        id: conversationId,
      })) as { createInvite: { code: string } }
    ).createInvite.code;

  // Alice's side: a 1:1 with bob, a group with bob, a group of her own.
  const a1 = await send(alice!, { toPhone: bob!.phone, body: 'hello bob' });
  const direct = a1.conversationId;
  const a2 = await send(alice!, { conversationId: direct, body: 'second', clientMessageId: 'c-1' });
  const b1 = await send(bob!, { conversationId: direct, body: 'hi alice' });
  const team = await group(alice!, 'Team', [bob!.phone]);
  const a3 = await send(alice!, { conversationId: team, body: 'team note' });
  const b2 = await send(bob!, { conversationId: team, body: 'bob in team' });
  const solo = await group(alice!, 'Notes', []);
  const a4 = await send(alice!, { conversationId: solo, body: 'note to self' });
  const disposableGroupIds = [await group(alice!, 'Leave me', [bob!.phone])];
  disposableGroupIds.push(await group(alice!, 'Leave me too', []));
  const disposableMessageIds: string[] = [];
  for (const body of ['delete me', 'delete me too', 'and me']) {
    disposableMessageIds.push((await send(alice!, { conversationId: direct, body })).id);
  }

  // The victims' side: a 1:1, a group, and a group alice was in and left.
  const v1 = await send(carol!, { toPhone: dave!.phone, body: `${marker} one` });
  const v2 = await send(dave!, { conversationId: v1.conversationId, body: `${marker} two` });
  const secret = await group(carol!, `${marker} group`, [dave!.phone]);
  const v3 = await send(carol!, { conversationId: secret, body: `${marker} three` });
  const left = await group(carol!, `${marker} left`, [alice!.phone, dave!.phone]);
  const v4 = await send(carol!, { conversationId: left, body: `${marker} four` });
  await must(
    app.gql(
      `mutation($id: ID!) { leaveConversation(conversationId: $id) }`,
      { id: left },
      alice!.token,
    ),
  );
  const v5 = await send(carol!, { conversationId: left, body: `${marker} after alice left` });

  // Uploads: bob's (not sent), carol's (sent to her group), alice's (already sent).
  const file = (name: string) => ({ bytes: Buffer.from(`${name}\n`), filename: `${name}.txt` });
  const bobsUpload = await uploadOk(app.origin, bob!.token, file('bob'));
  const carolsUpload = await uploadOk(app.origin, carol!.token, file('carol'));
  const v6 = await send(carol!, {
    conversationId: secret,
    body: `${marker} with a file`,
    attachmentIds: [carolsUpload.id],
  });
  const alicesUpload = await uploadOk(app.origin, alice!.token, file('alice'));
  await send(alice!, {
    conversationId: solo,
    body: 'with a file',
    attachmentIds: [alicesUpload.id],
  });

  // Groups with roles: alice OWNER (with bob and frank), alice MEMBER of bob's group, frank's
  // PUBLIC group she is not in, and groups of hers that handing over and removals may use up.
  const ownerGroupId = await group(alice!, 'Admins', [bob!.phone, frank!.phone]);
  await send(alice!, { conversationId: ownerGroupId, body: 'owner note' });
  const memberGroupId = await group(bob!, "Bob's club", [alice!.phone, frank!.phone]);
  const b3 = await send(bob!, { conversationId: memberGroupId, body: 'club news' });
  const f1 = await send(frank!, { conversationId: memberGroupId, body: 'frank in the club' });
  const handoverGroupIds = [
    await group(alice!, 'Hand me over', [bob!.phone, frank!.phone]),
    await group(alice!, 'Hand me over too', [bob!.phone, frank!.phone]),
  ];
  const publicGroupId = await group(frank!, 'Open house', [bob!.phone], {
    visibility: 'PUBLIC',
    description: 'anyone welcome',
  });
  await send(frank!, { conversationId: publicGroupId, body: 'welcome' });
  const ownInviteCodes = [await invite(alice!, ownerGroupId), await invite(alice!, team)];
  const memberInviteCode = await invite(bob!, memberGroupId);
  const victimInviteCodes = [await invite(carol!, secret)];
  // Reactions and edits on both sides, and a block: every new field has something to show.
  const react = (user: TestUser, messageId: string, emoji: string) =>
    as(user, `mutation($m: ID!, $e: String!) { addReaction(messageId: $m, emoji: $e) { id } }`, {
      m: messageId,
      e: emoji,
    });
  const edit = (user: TestUser, messageId: string, body: string) =>
    as(user, `mutation($input: EditMessageInput!) { editMessage(input: $input) { id } }`, {
      input: { messageId, body },
    });
  await react(bob!, a3.id, '👍');
  await react(alice!, b3.id, ':tada:');
  await edit(bob!, b2.id, 'bob in team (edited)');
  await react(carol!, v3.id, '🔥');
  await edit(carol!, v3.id, `${marker} three, edited`);
  await as(alice!, `mutation($id: ID!) { blockUser(userId: $id) }`, { id: frank!.id });
  const avatar = await uploadOk(app.origin, alice!.token, {
    bytes: await detailedPng(16, 16),
    filename: 'avatar.png',
  });
  // Push: a subscription of alice's where the server has VAPID keys (PGlite: embedded mode makes
  // them up; it also starts the job queue now rather than in the middle of a property).
  const ecdh = createECDH('prime256v1');
  const pushKeys = {
    p256dh: ecdh.generateKeys().toString('base64url'),
    auth: randomBytes(16).toString('base64url'),
  };
  const pushEndpoints: string[] = [];
  const vapid = await app.gql(`{ vapidPublicKey }`, {}, alice!.token);
  if (!vapid.errors?.length) {
    for (const n of [1, 2]) {
      const endpoint = `https://push.invalid/fuzz/${n}-${randomUUID()}`;
      await as(
        alice!,
        `mutation($input: PushSubscriptionInput!) { registerPushSubscription(input: $input) }`,
        { input: { endpoint, ...pushKeys } },
      );
      pushEndpoints.push(endpoint);
    }
  }

  const cursors = async (user: TestUser, conversationId: string) =>
    (
      await must(
        app.gql<{ messages: { edges: { cursor: string }[] } }>(
          `query($id: ID!) { messages(conversationId: $id, last: 10) { edges { cursor } } }`,
          { id: conversationId },
          user.token,
        ),
      )
    ).messages.edges.map((e) => e.cursor);
  const conversationCursors = async (user: TestUser) =>
    (
      await must(
        app.gql<{ conversations: { edges: { cursor: string }[] } }>(
          `{ conversations(first: 10) { edges { cursor } } }`,
          {},
          user.token,
        ),
      )
    ).conversations.edges.map((e) => e.cursor);

  const world: World = {
    app,
    backend,
    alice: alice!,
    bob: bob!,
    frank: frank!,
    carol: carol!,
    dave: dave!,
    marker,
    // (Alice's groups with roles too: never left, so later cases still have them.)
    ownConversationIds: [direct, team, solo, ownerGroupId, memberGroupId],
    ownMessageIds: [a1.id, a2.id, a3.id, a4.id],
    disposableGroupIds,
    disposableMessageIds,
    bobMessageIds: [b1.id, b2.id, b3.id, f1.id],
    victimConversationIds: [v1.conversationId, secret, left],
    victimMessageIds: [v1.id, v2.id, v3.id, v4.id, v5.id, v6.id],
    victimUserIds: [carol!.id, dave!.id],
    messageCursors: [...(await cursors(alice!, direct)), ...(await cursors(alice!, team))],
    conversationCursors: await conversationCursors(alice!),
    victimCursors: [
      ...(await cursors(carol!, v1.conversationId)),
      ...(await cursors(carol!, left)),
      ...(await conversationCursors(carol!)),
    ],
    phones: [alice!.phone, bob!.phone, frank!.phone],
    unattachableUploadIds: [bobsUpload.id, carolsUpload.id, alicesUpload.id],
    ownerGroupId,
    memberGroupId,
    handoverGroupIds,
    publicGroupId,
    ownInviteCodes,
    memberInviteCode,
    victimInviteCodes,
    avatarUploadId: avatar.id,
    userIds: [alice!.id, bob!.id, frank!.id, carol!.id, dave!.id],
    pushEndpoints,
    pushKeys,
    snapshotSql: '',
  };
  const fn = `fuzz_snapshot_${randomUUID().replaceAll('-', '')}`;
  await app.database.db.execute(
    sql.raw(`create function ${fn}() returns text language plpgsql as $fn$
      begin return (select row_to_json(s)::text from (${await snapshotQuery(world)}) s); end
    $fn$`),
  );
  world.snapshotSql = `select ${fn}() as snapshot`;
  return world;
}

// ---------------------------------------------------------------------------------------------
// Database snapshots

type Snapshot = Record<string, string>;

const md5Of = (columns: string, table: string, order: string, where = 'true') =>
  `(select md5(coalesce(string_agg(t::text, ',' order by ${order}), '')) from (select ${columns} from ${table} where ${where}) t)`;

/**
 * Tables whose rows change by themselves, after the request that caused it: the job queue's
 * heartbeat and push bookkeeping (written by the worker as well as by the send trigger), the
 * outbox and discarded blobs (drained and swept). New outbox and discarded-blob rows are judged
 * in `newRows`. graphile-worker's own tables (schema graphile_worker) are not in the snapshot:
 * every job a request enqueues comes from the outbox trigger (so no new outbox row, no job), and
 * the worker adds jobs of its own at any time (push checks reschedule themselves, push batches).
 */
const ASYNC_TABLES = new Set([
  'outbox',
  'discarded_blobs',
  'job_workers',
  'push_cursors',
  'push_deliveries',
  'webhook_cursors',
]);
/** Columns that move without a write of the request's own: presence and delivery positions. */
const VOLATILE_COLUMNS = ['last_seen_at', 'last_delivered_seq'];

/**
 * One statement that takes the count and a checksum of every row of every table of the schema
 * (whatever columns they have now: a table or column added later is covered without a change
 * here), the delivery positions apart, the newest outbox id, and the victims' rows.
 */
async function snapshotQuery(w: World): Promise<string> {
  const tables = (
    await queryRows<{ name: string }>(
      w.app.database.db,
      // A partition's rows are its parent's (drizzle/0016): parents only.
      sql.raw(`select table_name as name from information_schema.tables
        where table_schema = 'public' and table_type = 'BASE TABLE'
          and not (select relispartition from pg_class
                    where oid = format('%I.%I', table_schema, table_name)::regclass)
        order by 1`),
    )
  ).map((r) => r.name);
  for (const t of ['users', 'conversations', 'conversation_members', 'messages', 'outbox']) {
    if (!tables.includes(t)) throw new Error(`no table ${t}: ${tables.join(', ')}`);
  }
  const list = (ids: readonly string[]) => {
    for (const id of ids) if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`not a uuid: ${id}`);
    return ids.map((id) => `'${id}'::uuid`).join(', ');
  };
  const victims = list(w.victimConversationIds);
  const victimUsers = list(w.victimUserIds);
  // Every column but the volatile ones, each row in text form.
  const columnRows = await queryRows<{ table: string; columns: string }>(
    w.app.database.db,
    sql.raw(`select table_name as table,
        string_agg(quote_ident(column_name), ', ' order by ordinal_position) as columns
      from information_schema.columns
      where table_schema = 'public'
        and column_name not in (${VOLATILE_COLUMNS.map((c) => `'${c}'`).join(', ')})
      group by table_name`),
  );
  const columnsOf = new Map(columnRows.map((r) => [r.table, r.columns]));
  const columns: string[] = [];
  for (const table of tables.filter((t) => !ASYNC_TABLES.has(t))) {
    const selected = columnsOf.get(table);
    if (!selected) throw new Error(`no columns for ${table}`);
    columns.push(
      // Count and sum of row hashes: order does not matter, so nothing is sorted.
      `(select count(*) || '/' || coalesce(sum(hashtext(t::text)), 0) from (select ${selected} from "${table}") t) as "${table}"`,
    );
  }
  const byConversation = (table: string, order: string) =>
    tables.includes(table) ? md5Of('*', table, order, `conversation_id in (${victims})`) : `''`;
  const query = `select ${columns.join(',\n')},
    ${md5Of('conversation_id, user_id, last_delivered_seq', 'conversation_members', 't.conversation_id, t.user_id')} as delivered_md5,
    (select coalesce(max(id), 0) from outbox)::text as outbox_max_id,
    clock_timestamp()::text as taken_at,
    md5(concat_ws('/',
      ${md5Of('*', 'conversations', 't.id', `id in (${victims})`)},
      ${md5Of('*', 'conversation_members', 't.conversation_id, t.user_id', `conversation_id in (${victims})`)},
      ${md5Of('*', 'messages', 't.conversation_id, t.seq', `conversation_id in (${victims})`)},
      ${byConversation('message_reactions', 't.seq, t.emoji, t.user_id')},
      ${byConversation('message_edits', 't.seq, t.version')},
      ${byConversation('invites', 't.code')},
      ${md5Of('id, phone, display_name, password_hash', 'users', 't.id', `id in (${victimUsers})`)}
    )) as victims_md5`;
  return query;
}

async function snapshot(w: World): Promise<Snapshot> {
  const [row] = await queryRows<{ snapshot: string }>(w.app.database.db, sql.raw(w.snapshotSql));
  return JSON.parse(row!.snapshot) as Snapshot;
}

/** Rows written since the snapshot to the tables drained or swept in the background. */
async function newRows(w: World, before: Snapshot): Promise<string[]> {
  const [row] = await queryRows<Record<string, number>>(
    w.app.database.db,
    sql.raw(`select
      (select count(*)::int from outbox where id > ${Number(before['outbox_max_id'])}) as outbox,
      (select count(*)::int from discarded_blobs
        where discarded_at > '${before['taken_at']}'::timestamptz) as discarded_blobs`),
  );
  return Object.entries(row ?? {})
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} new ${k} rows`);
}

/** Snapshot columns that are positions, not contents (judged by `newRows`). */
const SNAPSHOT_MARKS = new Set(['outbox_max_id', 'taken_at']);

function changed(before: Snapshot, after: Snapshot, ignore: readonly string[] = []): string[] {
  return Object.keys(before).filter(
    (k) => !SNAPSHOT_MARKS.has(k) && !ignore.includes(k) && before[k] !== after[k],
  );
}

// ---------------------------------------------------------------------------------------------
// Running one case

type Auth =
  | { kind: 'alice' }
  | { kind: 'none' }
  /** A raw Authorization header value that must not authenticate anyone. */
  | { kind: 'raw'; header: string };

interface Case {
  op: string;
  kind: 'query' | 'mutation' | 'document';
  /** The root field whose null means "failed" (single-field documents). */
  field?: string;
  query: string;
  variables?: unknown;
  auth: Auth;
  /** The whole request body instead of { query, variables } (raw-body cases). */
  rawBody?: unknown;
}

type Oracle = (reply: Reply, c: Case) => void;

/**
 * Bugs this fuzzing found, kept as fixed cases: the smallest input that showed each, and the
 * backends it showed on (a 500 from a NUL character in a push endpoint, found when the push
 * operations were added to the fuzzer, fixed by checking the endpoint as text).
 */
interface FoundBug {
  name: string;
  repro: (w: World) => Case;
  on: readonly BackendName[];
}
const FOUND_BUGS: readonly FoundBug[] = [
  {
    name: 'unregisterPushSubscription(endpoint) with a NUL character',
    on: ['pglite', 'postgres'],
    repro: () => ({
      op: 'unregisterPushSubscription',
      kind: 'mutation',
      field: 'unregisterPushSubscription',
      query: 'mutation($endpoint: String!) { unregisterPushSubscription(endpoint: $endpoint) }',
      variables: { endpoint: '\u0000' },
      auth: { kind: 'alice' },
    }),
  },
  {
    name: 'registerPushSubscription(input.endpoint) with a NUL character',
    // (PostgreSQL here has no VAPID keys: NOT_CONFIGURED comes first.)
    on: ['pglite'],
    repro: (w) => ({
      op: 'registerPushSubscription',
      kind: 'mutation',
      field: 'registerPushSubscription',
      query: 'mutation($input: PushSubscriptionInput!) { registerPushSubscription(input: $input) }',
      variables: { input: { endpoint: 'https://push.invalid/\u0000', ...w.pushKeys } },
      auth: { kind: 'alice' },
    }),
  },
];

let totalCases = 0;
const casesByProperty = new Map<string, number>();

function authHeader(w: World, auth: Auth): string | undefined {
  if (auth.kind === 'alice') return `Bearer ${w.alice.token}`;
  if (auth.kind === 'raw') return auth.header;
  return undefined;
}

async function exercise(w: World, property: string, c: Case, oracle?: Oracle): Promise<Reply> {
  totalCases += 1;
  casesByProperty.set(property, (casesByProperty.get(property) ?? 0) + 1);
  const before = await snapshot(w);
  const body = c.rawBody !== undefined ? c.rawBody : { query: c.query, variables: c.variables };
  const header = authHeader(w, c.auth);
  const reply = await post(w.app, body, header);
  // A raw body's strings also count as input once decoded (an operation name echoed back).
  const inputs = stringsOf([body, decoded(c.rawBody), header ?? '']);
  const apq = JSON.stringify(body ?? null).includes('persistedQuery');
  checkEnvelope(reply, inputs, { apq });

  if (reply.text.includes(w.marker)) {
    violated(`a victim's message body or title is in the response: ${reply.text.slice(0, 500)}`);
  }
  const dataText = JSON.stringify(reply.data ?? null);
  for (const id of [...w.victimConversationIds, ...w.victimMessageIds]) {
    if (dataText.includes(id)) violated(`a victim's id ${id} is in the data: ${dataText}`);
  }

  const after = await snapshot(w);
  if (after['victims_md5'] !== before['victims_md5']) {
    violated(`the victims' conversations changed`);
  }
  const root = c.field !== undefined ? reply.data?.[c.field] : undefined;
  const failed = reply.errors.length > 0 && (root === null || root === undefined);
  if (c.auth.kind !== 'alice' && c.op !== 'register' && c.op !== 'login') {
    // Without a valid session nothing at all may change, and nothing may be answered.
    const diff = changed(before, after);
    if (diff.length > 0) violated(`unauthenticated call changed ${diff.join(', ')}`);
    const written = await newRows(w, before);
    if (written.length > 0) violated(`unauthenticated call wrote ${written.join(', ')}`);
    if (c.field !== undefined && root !== null && root !== undefined) {
      violated(`unauthenticated call answered: ${dataText.slice(0, 300)}`);
    }
  } else if (c.kind === 'mutation' && failed) {
    const diff = changed(before, after);
    if (diff.length > 0) {
      violated(`failed mutation wrote (${diff.join(', ')}): ${JSON.stringify(reply.errors)}`);
    }
    const written = await newRows(w, before);
    if (written.length > 0) {
      violated(`failed mutation wrote ${written.join(', ')}: ${JSON.stringify(reply.errors)}`);
    }
  } else if (c.kind === 'query' || c.kind === 'document') {
    // Reads record delivery (last_delivered_seq) and nothing else.
    const diff = changed(before, after, ['delivered_md5']);
    if (diff.length > 0) violated(`a read changed ${diff.join(', ')}`);
  }
  oracle?.(reply, c);
  return reply;
}

// ---------------------------------------------------------------------------------------------
// Documents

const USER = 'id phone displayName presence { status lastSeenAt user { id } }';
const MESSAGE = `id conversationId seq body clientMessageId createdAt editedAt deletedAt status
  sender { id displayName } kind senderBlocked
  systemEvent { type actor { id } subject { id } subjects { id } role fields title }
  reactions { emoji count reactedByMe users { id } } edits { body editedAt }`;
/** A message in a page: priced per page item by the cost limit, so no edits or subjects lists. */
const PAGE_MESSAGE = `id conversationId seq body clientMessageId createdAt editedAt deletedAt status
  sender { id displayName } kind senderBlocked systemEvent { type actor { id } role fields title }
  reactions { emoji count reactedByMe }`;
const CONVERSATION = `id kind title unreadCount updatedAt members { id phone displayName }
  lastMessage { ${MESSAGE} } isMuted mutedUntil description visibility memberCount myRole
  avatar { id mimeType url } memberships { user { id } role joinedAt lastReadSeq }
  readReceipts { conversationId user { id } lastReadSeq readAt }`;
const PAGE_INFO = 'pageInfo { hasNextPage hasPreviousPage startCursor endCursor }';
const PAGE_VARS = '$first: Int, $after: String, $last: Int, $before: String';
const PAGE_ARGS = 'first: $first, after: $after, last: $last, before: $before';
const TIME_VARS = '$since: DateTime, $until: DateTime';
const TIME_ARGS = 'since: $since, until: $until';
const NODE = `__typename id ... on User { phone displayName presence { status } }
  ... on Conversation { kind title memberCount myRole members { id } lastMessage { id body } }
  ... on Message { conversationId seq body sender { id } reactions { emoji } edits { body } }`;

const DOCS = {
  register: `mutation($input: RegisterInput!) { register(input: $input) { token user { ${USER} } } }`,
  login: `mutation($input: LoginInput!) { login(input: $input) { token user { id phone } } }`,
  updateProfile: `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { ${USER} } }`,
  startDirectConversation: `mutation($phone: String!) {
    startDirectConversation(phone: $phone) { ${CONVERSATION} } }`,
  createGroupConversation: `mutation($input: CreateGroupConversationInput!) {
    createGroupConversation(input: $input) { ${CONVERSATION} } }`,
  addMembers: `mutation($conversationId: ID!, $phones: [String!]!) {
    addMembers(conversationId: $conversationId, phones: $phones) { ${CONVERSATION} } }`,
  leaveConversation: `mutation($conversationId: ID!) {
    leaveConversation(conversationId: $conversationId) }`,
  sendMessage: `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ${MESSAGE}
    attachments { id mimeType size url thumbnailUrl } } }`,
  editMessage: `mutation($input: EditMessageInput!) { editMessage(input: $input) { ${MESSAGE} } }`,
  deleteMessage: `mutation($messageId: ID!) { deleteMessage(messageId: $messageId) { ${MESSAGE} } }`,
  markRead: `mutation($messageId: ID!) { markRead(messageId: $messageId) { ${CONVERSATION} } }`,
  setTyping: `mutation($conversationId: ID!, $isTyping: Boolean!) {
    setTyping(conversationId: $conversationId, isTyping: $isTyping) }`,
  addReaction: `mutation($messageId: ID!, $emoji: String!) {
    addReaction(messageId: $messageId, emoji: $emoji) { ${MESSAGE} } }`,
  removeReaction: `mutation($messageId: ID!, $emoji: String!) {
    removeReaction(messageId: $messageId, emoji: $emoji) { ${MESSAGE} } }`,
  markUnread: `mutation($messageId: ID!) { markUnread(messageId: $messageId) { ${CONVERSATION} } }`,
  removeMember: `mutation($conversationId: ID!, $userId: ID!) {
    removeMember(conversationId: $conversationId, userId: $userId) { ${CONVERSATION} } }`,
  setMemberRole: `mutation($conversationId: ID!, $userId: ID!, $role: MemberRole!) {
    setMemberRole(conversationId: $conversationId, userId: $userId, role: $role) {
      ${CONVERSATION} } }`,
  updateConversation: `mutation($input: UpdateConversationInput!) {
    updateConversation(input: $input) { ${CONVERSATION} } }`,
  createInvite: `mutation($conversationId: ID!, $expiresAt: DateTime, $maxUses: Int) {
    createInvite(conversationId: $conversationId, expiresAt: $expiresAt, maxUses: $maxUses) {
      code conversationId expiresAt usesLeft } }`,
  revokeInvite: `mutation($code: String!) { revokeInvite(code: $code) }`,
  joinConversation: `mutation($conversationId: ID, $inviteCode: String) {
    joinConversation(conversationId: $conversationId, inviteCode: $inviteCode) {
      ${CONVERSATION} } }`,
  blockUser: `mutation($userId: ID!) { blockUser(userId: $userId) }`,
  unblockUser: `mutation($userId: ID!) { unblockUser(userId: $userId) }`,
  muteConversation: `mutation($conversationId: ID!, $until: DateTime) {
    muteConversation(conversationId: $conversationId, until: $until) { ${CONVERSATION} } }`,
  unmuteConversation: `mutation($conversationId: ID!) {
    unmuteConversation(conversationId: $conversationId) { ${CONVERSATION} } }`,
  registerPushSubscription: `mutation($input: PushSubscriptionInput!) {
    registerPushSubscription(input: $input) }`,
  unregisterPushSubscription: `mutation($endpoint: String!) {
    unregisterPushSubscription(endpoint: $endpoint) }`,
  me: `query { me { ${USER} totalUnreadCount } }`,
  userByPhone: `query($phone: String!) { userByPhone(phone: $phone) { ${USER} totalUnreadCount } }`,
  conversation: `query($id: ID!) { conversation(id: $id) { ${CONVERSATION} } }`,
  conversations: `query(${PAGE_VARS}) { conversations(${PAGE_ARGS}) {
    edges { cursor node { id kind title unreadCount updatedAt isMuted myRole
      lastMessage { id seq body sender { id } } } }
    ${PAGE_INFO} } }`,
  messages: `query($conversationId: ID!, ${PAGE_VARS}, ${TIME_VARS}) {
    messages(conversationId: $conversationId, ${PAGE_ARGS}, ${TIME_ARGS}) {
      edges { cursor node { ${PAGE_MESSAGE} } } ${PAGE_INFO} } }`,
  conversationMessages: `query($id: ID!, ${PAGE_VARS}, ${TIME_VARS}) { conversation(id: $id) { id
    messages(${PAGE_ARGS}, ${TIME_ARGS}) { edges { cursor node { ${PAGE_MESSAGE} } } ${PAGE_INFO} } } }`,
  searchMessages: `query($query: String!, $conversationId: ID, $first: Int, $after: String) {
    searchMessages(query: $query, conversationId: $conversationId, first: $first, after: $after) {
      edges { cursor snippet node { ${PAGE_MESSAGE} } } ${PAGE_INFO} } }`,
  publicConversations: `query($search: String, $first: Int, $after: String) {
    publicConversations(search: $search, first: $first, after: $after) {
      edges { cursor node { id kind title description visibility memberCount myRole unreadCount
        members { id } memberships { role } lastMessage { id body } } } ${PAGE_INFO} } }`,
  blockedUsers: `query { blockedUsers { id phone displayName presence { status } } }`,
  vapidPublicKey: `query { vapidPublicKey }`,
  node: `query($id: ID!) { node(id: $id) { ${NODE} } }`,
  nodes: `query($ids: [ID!]!) { nodes(ids: $ids) { ${NODE} } }`,
} as const;
type Op = keyof typeof DOCS;

const ROOT_FIELD: Record<Op, string> = Object.fromEntries(
  Object.keys(DOCS).map((op) => [op, op === 'conversationMessages' ? 'conversation' : op]),
) as Record<Op, string>;

const opCase = (op: Op, variables: unknown, auth: Auth = { kind: 'alice' }): Case => ({
  op,
  kind: DOCS[op].trimStart().startsWith('mutation') ? 'mutation' : 'query',
  field: ROOT_FIELD[op],
  query: DOCS[op],
  variables,
  auth,
});

// ---------------------------------------------------------------------------------------------
// Arbitraries

const NASTY: readonly string[] = [
  '',
  ' ',
  '\t\r\n',
  '\u0000',
  'a\u0000b',
  '%00',
  '%s%s%n%x',
  "'; drop table users; --",
  "' or '1'='1",
  'select * from users',
  '"; delete from messages where true; --',
  '\\',
  '"',
  "'",
  '`',
  '{"$gt": ""}',
  '{}',
  '[]',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e309',
  '__proto__',
  'constructor',
  'toString',
  '\u202eevil\u202c',
  '\u200f\u200e',
  'مرحبا بالعالم',
  'שלום',
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈',
  '😀',
  'Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a',
  '\ufeff',
  '\u200b',
  '\u2028\u2029',
  '\u3000',
  '\ud800',
  '\udfff',
  'a\ud83d',
  '<script>alert(1)</script>',
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '../../etc/passwd',
  'm1:1',
  'c1:',
  'Bearer x',
  '+',
  '+1',
  '+15551234567',
  '+0 555 123 4567',
  '+1 (555) 123-4567',
  '+1.555.123.4567',
  '+1[555]1234567',
  '+1234567890123456',
  '+１５５５１２３４５６７',
  '+١٥٥٥١٢٣٤٥٦٧',
  '15551234567',
];

const controlChars = fc.string({
  unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 8,
});

const hugeString = fc
  .tuple(
    fc.constantFrom('x', '😀', 'é', ' ', 'a\u0000', 'ab', '\u200b', '👩‍👩‍👧‍👦'),
    fc.integer({ min: 3_990, max: 10_000 }),
  )
  .map(([unit, n]) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n));

/** One character of a mixed string: mostly printable, often a troublemaker. */
const nastyUnit: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '\u0000',
      '\u0007',
      '\u001b',
      '\u007f',
      '\u0085',
      '\ud800',
      '\udfff',
      '\u202e',
      '\ufeff',
      '\u200b',
      '\u0301',
      "'",
      '"',
      '\\',
      '%',
      '\n',
      '\t',
      ' ',
      '😀',
      'é',
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 3, arbitrary: fc.string({ unit: nastyUnit, maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: controlChars },
  { weight: 1, arbitrary: hugeString },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...NASTY), fc.string({ unit: 'binary', maxLength: 10 }))
      .map(([a, b]) => a + b),
  },
);

/** Not the type the variable declares (or missing, or null). */
const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant({}),
  fc.constant([]),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);

const sometimesWrong = <T>(arb: fc.Arbitrary<T>, weight = 8): fc.Arbitrary<unknown> =>
  fc.oneof({ weight, arbitrary: arb }, { weight: 1, arbitrary: wrongType });

/** An input object, sometimes with an unknown field or replaced by a wrong type. */
const inputObject = (record: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 10, arbitrary: record },
    {
      weight: 1,
      arbitrary: fc
        .tuple(record, fc.constantFrom('extra', 'id', 'senderId', '__proto__', 'isAdmin'))
        .map(([r, k]) => ({ ...r, [k]: 'x' })),
    },
    { weight: 1, arbitrary: wrongType },
  );

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

const intArg: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.integer({ min: -5, max: 120 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      0,
      1,
      99,
      100,
      101,
      -1,
      2_147_483_647,
      -2_147_483_648,
      2 ** 31,
      2 ** 53,
    ),
  },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom('10', 'ten', '1e2', '0x10', '', 'NaN', '-1') },
  { weight: 1, arbitrary: fc.constantFrom(true, false, [], {}, [10], { n: 1 }) },
);

/** A value of an Int argument after the JSON trip, and whether GraphQL must refuse it. */
function intVerdict(value: unknown): 'absent' | 'invalid' | number {
  const v: unknown = value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  if (v === undefined || v === null) return 'absent';
  if (typeof v !== 'number' || !Number.isInteger(v) || v > 2_147_483_647 || v < -2_147_483_648) {
    return 'invalid';
  }
  return v;
}

interface Arbs {
  phone: fc.Arbitrary<string>;
  conversationId: fc.Arbitrary<unknown>;
  messageId: fc.Arbitrary<unknown>;
  cursor: fc.Arbitrary<unknown>;
  body: fc.Arbitrary<string>;
  displayName: fc.Arbitrary<string>;
  password: fc.Arbitrary<string>;
  userId: fc.Arbitrary<unknown>;
  emoji: fc.Arbitrary<unknown>;
  dateTime: fc.Arbitrary<unknown>;
  /** Invite codes, never a victim's (those would let alice join): see revokeInvite's. */
  inviteCode: fc.Arbitrary<unknown>;
  searchQuery: fc.Arbitrary<unknown>;
  endpoint: fc.Arbitrary<unknown>;
}

function arbitraries(w: World): Arbs {
  const separators = fc.constantFrom(' ', '-', '.', '(', ')', '[', ']', '\t', '\u00a0', '');
  const formatted = fc
    .tuple(fc.constantFrom(...w.phones), fc.array(separators, { minLength: 16, maxLength: 16 }))
    .map(([p, seps]) =>
      p
        .split('')
        .map((ch, i) => ch + seps[i]!)
        .join(''),
    );
  const phone = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...w.phones) },
    { weight: 2, arbitrary: formatted },
    { weight: 2, arbitrary: fc.stringMatching(/^\+[1-9]\d{7,14}$/) },
    { weight: 1, arbitrary: fc.stringMatching(/^\+?\d{0,20}$/) },
    { weight: 3, arbitrary: hostileString },
  );

  const uuidLike = fc.oneof(
    fc.uuid(),
    fc.uuid().map((u) => u.toUpperCase()),
    fc.uuid().map((u) => ` ${u}`),
    fc.uuid().map((u) => u.replace(/-/g, '')),
    fc.uuid().map((u) => `${u}' or '1'='1`),
    fc.constant('00000000-0000-0000-0000-000000000000'),
  );
  const craftedMessageId = fc.oneof(
    fc
      .tuple(fc.uuid(), fc.integer({ min: 1, max: 2_147_483_647 }))
      .map(([conversationId, seq]) => encodeMessageId({ conversationId, seq })),
    fc
      .tuple(
        fc.constantFrom(...w.ownConversationIds, ...w.victimConversationIds),
        fc.oneof(
          fc.integer({ min: 1, max: 20 }),
          fc.constantFrom(2_147_483_647, 2 ** 31, 2 ** 32 - 1, 0),
        ),
      )
      .map(([conversationId, seq]) => {
        const bytes = Buffer.alloc(20);
        Buffer.from(conversationId.replace(/-/g, ''), 'hex').copy(bytes, 0);
        bytes.writeUInt32BE(seq, 16);
        return bytes.toString('base64url');
      }),
    fc.stringMatching(/^[A-Za-z0-9_-]{27}$/),
    fc.stringMatching(/^[A-Za-z0-9+/=]{26,28}$/),
  );
  const conversationId = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...w.ownConversationIds) },
    { weight: 1, arbitrary: fc.constantFrom(w.publicGroupId, ...w.handoverGroupIds) },
    { weight: 2, arbitrary: fc.constantFrom(...w.victimConversationIds) },
    { weight: 2, arbitrary: uuidLike },
    { weight: 1, arbitrary: fc.constantFrom(...w.ownMessageIds) },
    { weight: 2, arbitrary: hostileString },
    { weight: 1, arbitrary: fc.integer() },
    { weight: 1, arbitrary: wrongType },
  );
  const messageId = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...w.ownMessageIds) },
    { weight: 2, arbitrary: fc.constantFrom(...w.bobMessageIds) },
    { weight: 2, arbitrary: fc.constantFrom(...w.victimMessageIds) },
    { weight: 3, arbitrary: craftedMessageId },
    { weight: 1, arbitrary: fc.constantFrom(...w.ownConversationIds) },
    { weight: 1, arbitrary: uuidLike },
    { weight: 2, arbitrary: hostileString },
    { weight: 1, arbitrary: fc.integer() },
    { weight: 1, arbitrary: wrongType },
  );
  const epochMs = fc.oneof(
    fc.nat(),
    fc.integer({ min: 0, max: 999_999_999_999_999 }),
    // Unbiased: any time up to the largest 15 digits (most of them after the year 9999).
    fc.integer({ min: 0, max: 999_999 }).map((n) => n * 1_000_000_000 + (n % 1_000)),
    fc.constantFrom(
      0,
      Date.now(),
      253_402_300_799_999, // 9999-12-31T23:59:59.999Z
      253_402_300_800_000, // year 10000
      999_999_999_999_999,
      8_640_000_000_000_001,
    ),
  );
  const cursor = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...w.messageCursors, ...w.conversationCursors) },
    { weight: 1, arbitrary: fc.constantFrom(...w.victimCursors) },
    {
      weight: 3,
      arbitrary: fc
        .oneof(
          fc.integer({ min: -5, max: 20 }).map(String),
          fc.constantFrom('2147483647', '2147483648', '99999999999', '4294967295', '00000000001'),
          fc.constantFrom('-1', '1.5', '1e3', ' 1', '0x1', ''),
          fc.string({ maxLength: 12 }),
        )
        .map((n) => b64(`m1:${n}`)),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          epochMs,
          fc.oneof(
            fc.uuid(),
            fc.constantFrom(...w.ownConversationIds, ...w.victimConversationIds),
            fc.uuid().map((u) => u.toUpperCase()),
            hostileString,
          ),
        )
        .map(([ms, id]) => b64(`c1:${ms}:${id}`)),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map(b64) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,80}$/) },
    { weight: 1, arbitrary: fc.base64String({ maxLength: 80 }) },
    { weight: 1, arbitrary: fc.constant('A'.repeat(201)) },
    { weight: 2, arbitrary: hostileString },
    { weight: 1, arbitrary: wrongType },
  );
  const body = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom('hello', 'x', '😀'.repeat(4_000), 'y'.repeat(4_000)) },
    { weight: 5, arbitrary: hostileString },
    { weight: 2, arbitrary: fc.string({ unit: nastyUnit, minLength: 1, maxLength: 20 }) },
  );
  const displayName = fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom('Alice', ' Alice ', 'x'.repeat(64), 'é'.repeat(65)) },
    { weight: 4, arbitrary: hostileString },
  );
  const password = fc.oneof(
    { weight: 1, arbitrary: fc.constant('correct horse battery') },
    { weight: 3, arbitrary: hostileString },
    { weight: 1, arbitrary: fc.constant('p'.repeat(1_025)) },
  );
  const userId = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...w.userIds) },
    { weight: 2, arbitrary: uuidLike },
    { weight: 1, arbitrary: fc.constantFrom(...w.ownConversationIds, ...w.ownMessageIds) },
    { weight: 2, arbitrary: hostileString },
    { weight: 1, arbitrary: fc.integer() },
    { weight: 1, arbitrary: wrongType },
  );
  const emoji = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        '👍',
        '❤️',
        '🔥',
        '🏳️‍🌈',
        '👩‍👩‍👧‍👦',
        '🇫🇷',
        '1️⃣',
        '👍🏽',
        '🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}',
        ':tada:',
        ':+1:',
        ':flag-fr:',
        `:${'a'.repeat(32)}:`,
      ),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '',
        ' ',
        'a',
        '1',
        '👍👍',
        '👍 ',
        ' 👍',
        '🏽',
        '🇫',
        '\u200d',
        '\ufe0f',
        '👍\u0000',
        '\ud83d',
        ':TADA:',
        '::',
        ':tada',
        `:${'a'.repeat(33)}:`,
        ':ta da:',
        ':😀:',
        'e\u0301',
        '🏳️‍🌈'.repeat(10),
        '👍'.repeat(40),
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 2 }) },
    { weight: 3, arbitrary: hostileString },
    { weight: 1, arbitrary: wrongType },
  );
  const isoOf = (ms: number) => new Date(ms).toISOString();
  const dateTime = fc.oneof(
    // In the future (by a second to a year), and in the past.
    {
      weight: 3,
      arbitrary: fc.integer({ min: 1_000, max: 31_536_000_000 }).map((d) => isoOf(Date.now() + d)),
    },
    {
      weight: 2,
      arbitrary: fc.integer({ min: 0, max: 31_536_000_000 }).map((d) => isoOf(Date.now() - d)),
    },
    // Any date JavaScript has (years beyond 9999 and before 0 written with six digits).
    { weight: 2, arbitrary: fc.integer({ min: -8.64e15, max: 8.64e15 }).map(isoOf) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '9999-12-31T23:59:59.999Z',
        '0000-01-01T00:00:00Z',
        '0001-01-01T00:00:00.000Z',
        '1970-01-01T00:00:00Z',
        '2038-01-19T03:14:08Z',
        '+275760-09-13T00:00:00.000Z',
        '-271821-04-20T00:00:00.000Z',
        '+010000-01-01T00:00:00.000Z',
        '2099-02-30T00:00:00Z',
        '2099-01-01T24:00:00Z',
        '2016-12-31T23:59:60Z',
        '2099-01-01T00:00:00+14:00',
        '2099-01-01T00:00:00-23:59',
        '2099-01-01',
        '2099-01-01T00:00:00',
        '2099-01-01T00:00:00.123456789Z',
        '2099-01-01 00:00:00Z',
        'now',
        'tomorrow',
        'infinity',
        '-infinity',
        '',
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(0, -1, 1, Date.now() + 60_000, 2 ** 53, -(2 ** 53), 1e21, 0.5),
    },
    { weight: 2, arbitrary: hostileString },
    { weight: 1, arbitrary: wrongType },
  );
  const code22 = fc.stringMatching(/^[A-Za-z0-9_-]{22}$/);
  const inviteCode = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...w.ownInviteCodes, w.memberInviteCode) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...w.ownInviteCodes, w.memberInviteCode).map((c) => ` ${c}\t`),
    },
    { weight: 1, arbitrary: fc.constantFrom(...w.ownInviteCodes).map((c) => c.toLowerCase()) },
    { weight: 2, arbitrary: code22 },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{21,23}$/) },
    { weight: 1, arbitrary: fc.base64String({ minLength: 20, maxLength: 28 }) },
    { weight: 2, arbitrary: hostileString },
    { weight: 1, arbitrary: wrongType },
  );
  const searchQuery = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        'note',
        'bob',
        'hello',
        'te',
        'e',
        'club',
        'welcome',
        'edited',
        w.marker,
        w.marker.slice(0, 12),
        'VICTIM',
        'three',
        '«',
        '»',
        '%',
        '_',
        '%%%',
        '\\',
        '😀',
        '你好世界',
        'x'.repeat(200),
        'x'.repeat(201),
        '   ',
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: nastyUnit, minLength: 1, maxLength: 20 }) },
    { weight: 4, arbitrary: hostileString },
    { weight: 1, arbitrary: wrongType },
  );
  const endpoint = fc.oneof(
    {
      weight: 2,
      arbitrary: w.pushEndpoints.length
        ? fc.constantFrom(...w.pushEndpoints)
        : fc.constant('https://push.invalid/fuzz/none'),
    },
    { weight: 2, arbitrary: fc.uuid().map((u) => `https://push.invalid/fuzz/${u}`) },
    // A URL that parses, with hostile text in its path or query (kept as sent, not as parsed).
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom('/fuzz/', '/fuzz?x=', '/#'), hostileString)
        .map(([at, text]) => `https://push.invalid${at}${text}`),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'http://push.invalid/fuzz/x',
        'https://localhost/x',
        'https://127.0.0.1/x',
        'https://[::1]/x',
        'https://10.0.0.1/x',
        'https://169.254.169.254/latest/meta-data',
        'https://user:pw@push.invalid/x',
        'https://push.local/x',
        'ftp://push.invalid/x',
        'javascript:alert(1)',
        'file:///etc/passwd',
        'https://',
        'https://push.invalid/' + 'a'.repeat(2_100),
        ' https://push.invalid/fuzz/trimmed ',
        'https://xn--80ak6aa92e.com/x',
        'https://пуш.invalid/x',
      ),
    },
    { weight: 3, arbitrary: hostileString },
    { weight: 1, arbitrary: wrongType },
  );
  return {
    phone,
    conversationId,
    messageId,
    cursor,
    body,
    displayName,
    password,
    userId,
    emoji,
    dateTime,
    inviteCode,
    searchQuery,
    endpoint,
  };
}

// ---------------------------------------------------------------------------------------------
// Oracles: what the contract says about particular answers

const DIGITS_PHONE = /^\+[1-9]\d{7,14}$/;
const codePoints = (s: string) => [...s].length;
const hasLoneSurrogate = (s: string) =>
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

function expectCode(reply: Reply, codes: readonly string[], why: string) {
  const code = codeOf(reply.errors[0]);
  if (code === undefined || !codes.includes(code)) {
    violated(`${why}: expected ${codes.join('/')}, got ${reply.text.slice(0, 400)}`);
  }
}

/** Page-size rules of the contract: refused above 100 or below 0, never silently capped. */
function pageOracle(vars: Record<string, unknown>, connection: string): Oracle {
  return (reply) => {
    const first = intVerdict(vars['first']);
    const last = intVerdict(vars['last']);
    if (first === 'invalid' || last === 'invalid') {
      expectCode(reply, ['BAD_USER_INPUT'], 'a non-Int page size');
      return;
    }
    if (typeof first === 'number' && typeof last === 'number') {
      expectCode(reply, ['BAD_USER_INPUT'], 'both first and last');
      return;
    }
    for (const size of [first, last]) {
      if (typeof size === 'number' && (size < 0 || size > 100)) {
        expectCode(reply, ['BAD_USER_INPUT'], `page size ${size}`);
        return;
      }
    }
    const root = reply.data?.[connection] as
      | { messages?: unknown; edges?: { node: { seq?: number; conversationId?: string } }[] }
      | null
      | undefined;
    const page = (connection === 'conversation' ? root?.messages : root) as
      { edges: { node: { seq?: number } }[] } | null | undefined;
    if (!page) return;
    const size = typeof first === 'number' ? first : typeof last === 'number' ? last : 50;
    if (page.edges.length > size) violated(`${page.edges.length} edges for a page of ${size}`);
    const seqs = page.edges.map((e) => e.node.seq).filter((s) => s !== undefined);
    for (let i = 1; i < seqs.length; i++) {
      if (!(seqs[i]! > seqs[i - 1]!)) violated(`page not oldest → newest: ${seqs.join(',')}`);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Case generators per operation

type CaseArb = fc.Arbitrary<Case>;

const notIn =
  (values: readonly string[]) =>
  (v: unknown): boolean =>
    typeof v !== 'string' || !values.includes(v);

function operationCases(w: World, a: Arbs): Record<Op, CaseArb> {
  const str = (arb: fc.Arbitrary<string>) => sometimesWrong(arb);
  const optional = <T>(arb: fc.Arbitrary<T>) =>
    fc.oneof(arb as fc.Arbitrary<unknown>, fc.constant(undefined), fc.constant(null));
  // Mostly well-typed sizes, so that the cursors are decoded rather than refused beforehand.
  const size = fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 100 }) },
    { weight: 3, arbitrary: intArg },
  );
  const cursorOrNone = fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: a.cursor },
  );
  const pageVars = fc.record({
    first: size,
    after: cursorOrNone,
    last: size,
    before: cursorOrNone,
  });
  const timeVars = fc.record(
    { since: optional(a.dateTime), until: optional(a.dateTime) },
    { requiredKeys: [] },
  );
  // Messages alice can see (hers, bob's and frank's), some deleted meanwhile, and all the rest.
  const reactable = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...w.ownMessageIds, ...w.bobMessageIds) },
    { weight: 1, arbitrary: fc.constantFrom(...w.disposableMessageIds) },
    { weight: 4, arbitrary: a.messageId },
  );
  const searchCursor = fc
    .tuple(
      fc.oneof(fc.double({ noNaN: false }), fc.constantFrom(0, 1, -1, 1e308)),
      fc.oneof(fc.nat(), fc.constantFrom(253_402_300_799_999, 253_402_300_800_000, 2 ** 53)),
      fc.oneof(fc.uuid(), fc.constantFrom(...w.victimConversationIds), hostileString),
      fc.oneof(fc.nat(), fc.constantFrom(2_147_483_647, 2_147_483_648, 9_999_999_999)),
    )
    .map(([rank, ms, id, seq]) => b64(`s1:${rank}:${ms}:${id}:${seq}`));
  const publicCursor = fc
    .tuple(
      fc.oneof(fc.nat(), fc.constantFrom(2_147_483_647, 2_147_483_648, 9_999_999_999)),
      fc.oneof(fc.uuid(), fc.constantFrom(w.publicGroupId, ...w.victimConversationIds)),
    )
    .map(([n, id]) => b64(`p1:${n}:${id}`));
  const nodeId = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...w.userIds) },
    { weight: 2, arbitrary: a.conversationId.filter((v) => typeof v === 'string') },
    { weight: 2, arbitrary: a.messageId.filter((v) => typeof v === 'string') },
    { weight: 1, arbitrary: fc.constantFrom(w.publicGroupId, w.avatarUploadId) },
    { weight: 1, arbitrary: hostileString },
  ) as fc.Arbitrary<string>;
  const phones = sometimesWrong(
    fc.oneof(
      { weight: 3, arbitrary: fc.subarray(w.phones) },
      { weight: 2, arbitrary: fc.array(a.phone, { maxLength: 6 }) },
      fc.constant([]),
      fc.integer({ min: 2_001, max: 2_100 }).map((n) => Array.from({ length: n }, () => '+1555')),
      fc.constant(Array.from({ length: 2_000 }, (_, i) => `+1999${String(i).padStart(7, '0')}`)),
    ),
  );
  return {
    register: fc
      .record({
        phone: str(
          fc.oneof(
            a.phone,
            fc.constant(undefined).map(() => uniquePhone()),
          ),
        ),
        displayName: str(a.displayName),
        password: str(a.password),
      })
      .chain((input) => inputObject(fc.constant(input)))
      .map((input) => opCase('register', { input })),
    login: fc
      .record({ phone: str(a.phone), password: str(a.password) })
      .chain((input) => inputObject(fc.constant(input)))
      .map((input) => opCase('login', { input })),
    updateProfile: inputObject(fc.record({ displayName: str(a.displayName) })).map((input) =>
      opCase('updateProfile', { input }),
    ),
    startDirectConversation: str(a.phone).map((phone) =>
      opCase('startDirectConversation', { phone }),
    ),
    createGroupConversation: inputObject(
      fc.record({
        title: str(fc.oneof(hostileString, fc.constant('Group'))),
        memberPhones: phones,
      }),
    ).map((input) => opCase('createGroupConversation', { input })),
    addMembers: fc
      .record({ conversationId: a.conversationId, phones })
      .map((v) => opCase('addMembers', v)),
    leaveConversation: fc
      // Alice leaves only the groups set aside for it, so later cases still have hers.
      .record({
        conversationId: fc.oneof(
          { weight: 1, arbitrary: fc.constantFrom(...w.disposableGroupIds) },
          { weight: 8, arbitrary: a.conversationId.filter(notIn(w.ownConversationIds)) },
        ),
      })
      .map((v) => opCase('leaveConversation', v)),
    sendMessage: inputObject(
      fc
        .tuple(
          // Where to: mostly a working route, so that the body and clientMessageId get stored.
          fc.oneof(
            {
              weight: 3,
              arbitrary: fc.record({ conversationId: fc.constantFrom(...w.ownConversationIds) }),
            },
            {
              weight: 1,
              arbitrary: fc.record({ toPhone: fc.constantFrom(w.bob.phone, w.frank.phone) }),
            },
            {
              weight: 3,
              arbitrary: fc.record(
                { conversationId: optional(a.conversationId), toPhone: optional(a.phone) },
                { requiredKeys: [] },
              ),
            },
          ),
          fc.record(
            {
              body: str(a.body),
              clientMessageId: optional(
                fc.oneof(
                  hostileString,
                  fc.uuid(),
                  fc.constant('c-1'),
                  fc.constant('c'.repeat(129)),
                ),
              ),
              // None of these may be attached by alice (she has no unsent upload).
              attachmentIds: optional(
                fc.oneof(
                  {
                    weight: 4,
                    arbitrary: fc.array(
                      fc.oneof(
                        fc.constantFrom(...w.unattachableUploadIds),
                        fc.uuid(),
                        a.conversationId,
                        hostileString,
                      ),
                      { maxLength: 12 },
                    ),
                  },
                  { weight: 1, arbitrary: wrongType },
                ),
              ),
            },
            { requiredKeys: ['body'] },
          ),
        )
        .map(([route, rest]): Record<string, unknown> => ({ ...route, ...rest })),
    ).map((input) => opCase('sendMessage', { input })),
    editMessage: inputObject(
      fc.record({
        messageId: fc.oneof(
          { weight: 1, arbitrary: fc.constantFrom(...w.ownMessageIds) },
          { weight: 2, arbitrary: a.messageId },
        ),
        body: str(a.body),
      }),
    ).map((input) => opCase('editMessage', { input })),
    deleteMessage: fc
      // Alice deletes only the messages set aside for it, so later cases can still edit hers.
      .record({
        messageId: fc.oneof(
          { weight: 1, arbitrary: fc.constantFrom(...w.disposableMessageIds) },
          { weight: 6, arbitrary: a.messageId.filter(notIn(w.ownMessageIds)) },
        ),
      })
      .map((v) => opCase('deleteMessage', v)),
    markRead: fc.record({ messageId: a.messageId }).map((v) => opCase('markRead', v)),
    setTyping: fc
      .record({
        conversationId: a.conversationId,
        isTyping: sometimesWrong(fc.boolean(), 4),
      })
      .map((v) => opCase('setTyping', v)),
    me: fc.constant(opCase('me', {})),
    userByPhone: fc.record({ phone: str(a.phone) }).map((v) => opCase('userByPhone', v)),
    conversation: fc.record({ id: a.conversationId }).map((v) => opCase('conversation', v)),
    conversations: pageVars.map((v) => opCase('conversations', v)),
    messages: fc
      .tuple(a.conversationId, pageVars, timeVars)
      .map(([conversationId, v, t]) => opCase('messages', { conversationId, ...v, ...t })),
    conversationMessages: fc
      .tuple(a.conversationId, pageVars, timeVars)
      .map(([id, v, t]) => opCase('conversationMessages', { id, ...v, ...t })),
    addReaction: fc
      .record({ messageId: reactable, emoji: a.emoji })
      .map((v) => opCase('addReaction', v)),
    removeReaction: fc
      .record({
        messageId: reactable,
        emoji: fc.oneof(a.emoji, fc.constantFrom('👍', ':tada:', '🔥')),
      })
      .map((v) => opCase('removeReaction', v)),
    markUnread: fc.record({ messageId: a.messageId }).map((v) => opCase('markUnread', v)),
    removeMember: fc
      // Mostly in the groups set aside for it: the others keep their members for later cases.
      .record({
        conversationId: fc.oneof(
          { weight: 2, arbitrary: fc.constantFrom(...w.handoverGroupIds) },
          { weight: 5, arbitrary: a.conversationId.filter(notIn([w.ownerGroupId])) },
        ),
        userId: a.userId,
      })
      .map((v) => opCase('removeMember', v)),
    setMemberRole: fc
      .record({
        conversationId: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(w.ownerGroupId, ...w.handoverGroupIds) },
          { weight: 4, arbitrary: a.conversationId },
        ),
        userId: a.userId,
        role: sometimesWrong(
          fc.oneof(
            { weight: 6, arbitrary: fc.constantFrom('ADMIN', 'MEMBER', 'OWNER') },
            { weight: 1, arbitrary: fc.constantFrom('owner', 'ROOT', '', 'ADMIN ') },
            { weight: 1, arbitrary: hostileString },
          ),
        ),
      })
      // Alice hands over only the groups set aside for it, so she keeps owning the others.
      .map((v) =>
        v.role === 'OWNER' &&
        // (Not String(): a hostile value may be an object without a prototype.)
        !(typeof v.conversationId === 'string' && w.handoverGroupIds.includes(v.conversationId))
          ? { ...v, conversationId: w.handoverGroupIds[0]! }
          : v,
      )
      .map((v) => opCase('setMemberRole', v)),
    updateConversation: inputObject(
      fc.record(
        {
          conversationId: fc.oneof(
            { weight: 3, arbitrary: fc.constant(w.ownerGroupId) },
            { weight: 4, arbitrary: a.conversationId },
          ),
          title: optional(str(fc.oneof(hostileString, fc.constant('Renamed')))),
          description: optional(
            str(fc.oneof(hostileString, fc.constantFrom('about us', 'd'.repeat(1_001)))),
          ),
          avatarAttachmentId: optional(
            fc.oneof(
              fc.constant(w.avatarUploadId),
              fc.constantFrom(...w.unattachableUploadIds),
              fc.uuid(),
              a.conversationId,
              hostileString,
            ),
          ),
          visibility: optional(
            sometimesWrong(fc.constantFrom('PRIVATE', 'PUBLIC', 'public', 'SECRET')),
          ),
        },
        { requiredKeys: ['conversationId'] },
      ),
    ).map((input) => opCase('updateConversation', { input })),
    createInvite: fc
      .record(
        {
          conversationId: fc.oneof(
            { weight: 2, arbitrary: fc.constant(w.ownerGroupId) },
            { weight: 4, arbitrary: a.conversationId },
          ),
          expiresAt: optional(a.dateTime),
          maxUses: fc.oneof(
            intArg,
            fc.constantFrom(1, 100_000, 100_001, 0),
            fc.integer({ min: -10, max: 200_000 }),
          ),
        },
        { requiredKeys: ['conversationId'] },
      )
      .map((v) => opCase('createInvite', v)),
    revokeInvite: fc
      .record({
        // Alice's own codes are revoked rarely, so that joins with them still work for a while.
        code: fc.oneof(
          { weight: 1, arbitrary: fc.constantFrom(...w.ownInviteCodes) },
          { weight: 1, arbitrary: fc.constantFrom(...w.victimInviteCodes) },
          { weight: 6, arbitrary: a.inviteCode.filter(notIn(w.ownInviteCodes)) },
        ),
      })
      .map((v) => opCase('revokeInvite', v)),
    joinConversation: fc
      .oneof(
        fc.record({
          conversationId: fc.oneof(
            { weight: 2, arbitrary: fc.constant(w.publicGroupId) },
            { weight: 4, arbitrary: a.conversationId },
          ),
        }),
        fc.record({ inviteCode: a.inviteCode }),
        fc.record(
          { conversationId: optional(a.conversationId), inviteCode: optional(a.inviteCode) },
          { requiredKeys: [] },
        ),
      )
      .map((v) => opCase('joinConversation', v)),
    blockUser: fc.record({ userId: a.userId }).map((v) => opCase('blockUser', v)),
    unblockUser: fc.record({ userId: a.userId }).map((v) => opCase('unblockUser', v)),
    muteConversation: fc
      .record(
        { conversationId: a.conversationId, until: optional(a.dateTime) },
        { requiredKeys: ['conversationId'] },
      )
      .map((v) => opCase('muteConversation', v)),
    unmuteConversation: fc
      .record({ conversationId: a.conversationId })
      .map((v) => opCase('unmuteConversation', v)),
    registerPushSubscription: inputObject(
      fc.record({
        endpoint: a.endpoint,
        p256dh: sometimesWrong(
          fc.oneof(
            { weight: 3, arbitrary: fc.constant(w.pushKeys.p256dh) },
            { weight: 1, arbitrary: fc.constant(`${w.pushKeys.p256dh}==`) },
            {
              weight: 2,
              arbitrary: fc
                .uint8Array({ minLength: 60, maxLength: 70 })
                .map((b) => Buffer.from(b).toString('base64url')),
            },
            {
              weight: 1,
              arbitrary: fc
                .uint8Array({ minLength: 64, maxLength: 64 })
                .map((b) => Buffer.concat([Buffer.from([4]), b]).toString('base64')),
            },
            { weight: 2, arbitrary: hostileString },
          ),
        ),
        auth: sometimesWrong(
          fc.oneof(
            { weight: 3, arbitrary: fc.constant(w.pushKeys.auth) },
            {
              weight: 2,
              arbitrary: fc
                .uint8Array({ minLength: 14, maxLength: 18 })
                .map((b) => Buffer.from(b).toString('base64url')),
            },
            { weight: 2, arbitrary: hostileString },
          ),
        ),
      }),
    ).map((input) => opCase('registerPushSubscription', { input })),
    unregisterPushSubscription: fc
      // The first of alice's endpoints stays registered; the second may go.
      .record({ endpoint: a.endpoint.filter(notIn(w.pushEndpoints.slice(0, 1))) })
      .map((v) => opCase('unregisterPushSubscription', v)),
    searchMessages: fc
      .record(
        {
          query: a.searchQuery,
          conversationId: optional(a.conversationId),
          first: fc.oneof(size, fc.constantFrom(50, 51)),
          after: fc.oneof(cursorOrNone, searchCursor),
        },
        { requiredKeys: ['query'] },
      )
      .map((v) => opCase('searchMessages', v)),
    publicConversations: fc
      .record(
        {
          search: optional(
            fc.oneof(
              fc.constantFrom('open', 'OPEN', 'house', 'welcome', '%', '_', 'x'.repeat(101)),
              hostileString,
              wrongType,
            ),
          ),
          first: size,
          after: fc.oneof(cursorOrNone, publicCursor),
        },
        { requiredKeys: [] },
      )
      .map((v) => opCase('publicConversations', v)),
    blockedUsers: fc.constant(opCase('blockedUsers', {})),
    vapidPublicKey: fc.constant(opCase('vapidPublicKey', {})),
    node: fc.record({ id: nodeId }).map((v) => opCase('node', v)),
    nodes: fc
      .record({
        ids: sometimesWrong(
          fc.oneof(
            { weight: 6, arbitrary: fc.array(nodeId, { maxLength: 8 }) },
            { weight: 1, arbitrary: fc.constant([]) },
            {
              weight: 1,
              arbitrary: fc
                .integer({ min: 99, max: 102 })
                .chain((n) => fc.array(nodeId, { minLength: n, maxLength: n })),
            },
          ),
        ),
      })
      .map((v) => opCase('nodes', v)),
  };
}

/** What the contract says about the answer to an operation case (beyond the envelope). */
function oracleFor(w: World): Oracle {
  // The conversations alice is in, or may come to be in (the public one, by joining).
  const memberOf = new Set([
    ...w.ownConversationIds,
    ...w.disposableGroupIds,
    ...w.handoverGroupIds,
    w.publicGroupId,
  ]);
  const codesOfHers = new Set([...w.ownInviteCodes, w.memberInviteCode]);
  /** The conversation, message or invite code a case acts on. */
  const targetOf = (c: Case): unknown => {
    const vars = (c.variables ?? {}) as Record<string, unknown>;
    const input = (vars['input'] ?? {}) as Record<string, unknown>;
    return (
      vars['conversationId'] ??
      vars['messageId'] ??
      vars['code'] ??
      vars['inviteCode'] ??
      input['conversationId'] ??
      input['messageId']
    );
  };
  const inMemberOf = (target: unknown): boolean => {
    if (typeof target !== 'string') return false;
    const t = target.trim();
    if (memberOf.has(t) || codesOfHers.has(t)) return true;
    const key = decodeMessageId(t);
    return key !== null && memberOf.has(key.conversationId);
  };
  const isoOrNaN = (v: unknown) => (typeof v === 'string' ? Date.parse(v) : NaN);
  type MessageView = {
    conversationId: string;
    body: string | null;
    kind: string;
    createdAt: string;
    deletedAt: string | null;
    reactions: { emoji: string; reactedByMe: boolean }[];
  };
  type ConversationView = {
    id: string;
    isMuted: boolean;
    mutedUntil: string | null;
    myRole: string | null;
    visibility: string;
    members: unknown[];
    memberships: { user: { id: string }; role: string }[];
    lastMessage: unknown;
  };
  /** A node alice may see: any user; conversations and messages of hers only. */
  const checkNode = (node: unknown) => {
    if (node === null) return;
    const n = node as { __typename: string; id: string; conversationId?: string };
    if (n.__typename === 'Conversation' && !memberOf.has(n.id)) {
      violated(`node answered conversation ${n.id}`);
    }
    if (n.__typename === 'Message' && !memberOf.has(n.conversationId!)) {
      violated(`node answered a message of conversation ${n.conversationId}`);
    }
  };
  /** Page sizes of the forward-only connections (searchMessages, publicConversations). */
  const forwardPage = (first: unknown, max: number, fallback: number, edges?: unknown[]) => {
    const n = intVerdict(first);
    if (n === 'invalid' || (typeof n === 'number' && (n < 0 || n > max))) {
      if (edges) violated(`page size ${JSON.stringify(first)} was answered`);
      return;
    }
    const size = typeof n === 'number' ? n : fallback;
    if (edges && edges.length > size) violated(`${edges.length} edges for a page of ${size}`);
  };
  return (reply, c) => {
    const vars = (c.variables ?? {}) as Record<string, unknown>;
    const input = (vars['input'] ?? {}) as Record<string, unknown>;
    const root = c.field !== undefined ? reply.data?.[c.field] : undefined;
    const ok = reply.errors.length === 0;
    // Non-members get NOT_FOUND, never FORBIDDEN: only what alice is in (a group where she is
    // not an admin, another member's message, an invite code of such a group) may be forbidden.
    for (const e of reply.errors) {
      if (codeOf(e) === 'FORBIDDEN' && !inMemberOf(targetOf(c))) {
        violated(
          `FORBIDDEN for something alice is not a member of: ${JSON.stringify(c.variables)}`,
        );
      }
      if (
        codeOf(e) === 'NOT_CONFIGURED' &&
        (w.pushEndpoints.length > 0 ||
          (c.op !== 'vapidPublicKey' && c.op !== 'registerPushSubscription'))
      ) {
        violated(`NOT_CONFIGURED where push is set up or not involved: ${JSON.stringify(e)}`);
      }
    }
    switch (c.op) {
      case 'register': {
        if (!ok) return;
        const user = (root as { user: { phone: string; displayName: string } }).user;
        if (!DIGITS_PHONE.test(user.phone)) violated(`registered phone ${user.phone}`);
        const name = user.displayName;
        if (codePoints(name) < 1 || codePoints(name) > 64 || /\p{Cc}/u.test(name)) {
          violated(`registered displayName ${JSON.stringify(name)}`);
        }
        const password = input['password'] as string;
        if (password.length < 8) violated('registered with a password under 8 characters');
        return;
      }
      case 'login': {
        if (ok) {
          // Only the right password of a registered phone (in any common formatting) signs in.
          const user = (root as { user: { phone: string } }).user;
          if (user.phone !== normalizePhone(input['phone'] as string)) {
            violated(`login as ${user.phone} with phone ${JSON.stringify(input['phone'])}`);
          }
          return;
        }
        // Any shape of wrong input: the same UNAUTHENTICATED answer (unless the variables were
        // not strings at all, which GraphQL refuses first).
        if (typeof input['phone'] === 'string' && typeof input['password'] === 'string') {
          const keys = Object.keys(input);
          if (keys.every((k) => k === 'phone' || k === 'password')) {
            expectCode(reply, ['UNAUTHENTICATED', 'RATE_LIMITED'], 'login with wrong input');
            const message = reply.errors[0]!.message;
            if (codeOf(reply.errors[0]) === 'UNAUTHENTICATED' && message !== LOGIN_FAILED) {
              violated(`login failure worded differently: ${message}`);
            }
          }
        }
        return;
      }
      case 'updateProfile': {
        if (!ok) return;
        const name = (root as { displayName: string }).displayName;
        const sent = (input['displayName'] as string).trim();
        if (name !== sent && !hasLoneSurrogate(sent)) {
          violated(`stored name ${JSON.stringify(name)} for ${JSON.stringify(sent)}`);
        }
        if (codePoints(name) < 1 || codePoints(name) > 64 || /\p{Cc}/u.test(name)) {
          violated(`accepted displayName ${JSON.stringify(name)}`);
        }
        return;
      }
      case 'sendMessage':
      case 'editMessage': {
        if (!ok) return;
        const message = root as {
          body: string;
          sender: { id: string };
          clientMessageId: string;
          /** Selected by sendMessage only. */
          attachments?: unknown[];
        };
        const sent = input['body'] as string;
        if (message.sender.id !== w.alice.id) violated('message answered with another sender');
        if (message.attachments && message.attachments.length > 0) {
          violated('a message with attachments alice never sent');
        }
        if (c.op === 'sendMessage' && input['clientMessageId'] === 'c-1') return; // the original
        // (A retry returns the original whatever it lists; any other send with one must fail.)
        const attachmentIds = input['attachmentIds'];
        if (Array.isArray(attachmentIds) && attachmentIds.length > 0) {
          violated(`attached uploads alice may not attach: ${JSON.stringify(attachmentIds)}`);
        }
        // (Lone surrogates have a property of their own below.)
        if (message.body !== sent && !hasLoneSurrogate(sent)) {
          violated(
            `accepted body stored differently: sent ${JSON.stringify(sent.slice(0, 40))}, got ${JSON.stringify(message.body.slice(0, 40))}`,
          );
        }
        if (sent.trim().length === 0 || codePoints(sent) > 4_000) {
          violated(`accepted a body of ${codePoints(sent)} code points`);
        }
        const clientMessageId = input['clientMessageId'] ?? null;
        if (
          c.op === 'sendMessage' &&
          message.clientMessageId !== clientMessageId &&
          !hasLoneSurrogate(String(clientMessageId))
        ) {
          violated('clientMessageId not stored as sent');
        }
        return;
      }
      case 'deleteMessage': {
        if (!ok) return;
        const message = root as { body: unknown; deletedAt: unknown; sender: { id: string } };
        if (message.sender.id !== w.alice.id) violated('deleted a message of another sender');
        if (message.body !== null || message.deletedAt === null) violated('no tombstone');
        return;
      }
      case 'userByPhone': {
        if (!ok || root === null) return;
        const phone = (root as { phone: string }).phone;
        if (phone !== normalizePhone(vars['phone'] as string)) {
          violated(`userByPhone(${JSON.stringify(vars['phone'])}) found ${phone}`);
        }
        return;
      }
      case 'conversation': {
        if (root !== null && root !== undefined) {
          if (!memberOf.has((root as { id: string }).id)) {
            violated(`conversation answered ${(root as { id: string }).id}`);
          }
        }
        return;
      }
      case 'conversations':
        return pageOracle(vars, 'conversations')(reply, c);
      case 'messages':
      case 'conversationMessages': {
        // Conversation.messages is only resolved (and its arguments checked) when found.
        if (c.op === 'conversationMessages' && (root === null || root === undefined)) return;
        pageOracle(vars, c.field!)(reply, c);
        // A time window: every message sent at or after `since`, before `until`.
        const page = (c.op === 'messages' ? root : (root as { messages?: unknown })?.messages) as
          { edges: { node: MessageView }[] } | null | undefined;
        const since = isoOrNaN(vars['since']);
        const until = isoOrNaN(vars['until']);
        for (const { node } of page?.edges ?? []) {
          const at = Date.parse(node.createdAt);
          if (at < since || at >= until) {
            violated(
              `message of ${node.createdAt} in the window ${String(vars['since'])} – ${String(vars['until'])}`,
            );
          }
        }
        return;
      }
      case 'addReaction':
      case 'removeReaction': {
        if (!ok) return;
        const message = root as MessageView;
        if (!memberOf.has(message.conversationId))
          violated("reacted outside alice's conversations");
        if (message.deletedAt !== null) violated('a reaction to a deleted message');
        const emoji = String(vars['emoji']).normalize('NFC');
        const mine = message.reactions.some((r) => r.emoji === emoji && r.reactedByMe);
        if (c.op === 'addReaction' && !mine) violated(`reaction ${JSON.stringify(emoji)} missing`);
        if (c.op === 'removeReaction' && mine) violated(`reaction ${JSON.stringify(emoji)} stayed`);
        return;
      }
      case 'setMemberRole':
      case 'removeMember': {
        if (!ok) return;
        const conversation = root as ConversationView;
        if (vars['userId'] === w.alice.id) violated(`${c.op} on alice herself succeeded`);
        const membership = conversation.memberships.find((m) => m.user.id === vars['userId']);
        if (c.op === 'removeMember' && membership) violated('removed member still there');
        if (c.op === 'setMemberRole' && membership?.role !== vars['role']) {
          violated(`role ${String(vars['role'])} given, member has ${membership?.role}`);
        }
        return;
      }
      case 'updateConversation': {
        if (!ok) return;
        const conversation = root as ConversationView;
        if (conversation.myRole !== 'OWNER' && conversation.myRole !== 'ADMIN') {
          violated(`a ${conversation.myRole} changed the group's details`);
        }
        if (
          typeof input['visibility'] === 'string' &&
          conversation.visibility !== input['visibility']
        ) {
          violated(`visibility ${String(input['visibility'])} answered ${conversation.visibility}`);
        }
        return;
      }
      case 'createInvite': {
        if (!ok) return;
        const invite = root as { code: string; conversationId: string; usesLeft: number | null };
        if (!/^[A-Za-z0-9_-]{22}$/.test(invite.code)) violated(`invite code ${invite.code}`);
        if ([w.memberGroupId, w.publicGroupId].includes(invite.conversationId)) {
          violated('an invite made for a group where alice is no admin');
        }
        if (invite.usesLeft !== (vars['maxUses'] ?? null)) {
          violated(`maxUses ${String(vars['maxUses'])} answered usesLeft ${invite.usesLeft}`);
        }
        return;
      }
      case 'revokeInvite': {
        if (ok && !w.ownInviteCodes.includes(String(vars['code']).trim())) {
          violated(`revoked ${JSON.stringify(vars['code'])}, not a code of alice's groups`);
        }
        return;
      }
      case 'joinConversation': {
        if (!ok) return;
        const conversation = root as ConversationView;
        if (!memberOf.has(conversation.id) || conversation.myRole === null) {
          violated(`joined ${conversation.id} (role ${conversation.myRole})`);
        }
        return;
      }
      case 'blockUser':
      case 'unblockUser': {
        if (
          ok &&
          root === true &&
          (vars['userId'] === w.alice.id || !w.userIds.includes(String(vars['userId'])))
        ) {
          violated(`${c.op} answered true for ${JSON.stringify(vars['userId'])}`);
        }
        return;
      }
      case 'muteConversation':
      case 'unmuteConversation': {
        if (!ok) return;
        const conversation = root as ConversationView;
        const until = isoOrNaN(vars['until']);
        const expected =
          c.op === 'unmuteConversation' || !Number.isFinite(until)
            ? null
            : new Date(until).toISOString();
        if (conversation.isMuted !== (c.op === 'muteConversation')) violated('mute not applied');
        if (
          c.op === 'muteConversation' &&
          typeof vars['until'] === 'string' &&
          until <= Date.now()
        ) {
          violated(`muted until the past: ${String(vars['until'])}`);
        }
        if (typeof vars['until'] !== 'number' && conversation.mutedUntil !== expected) {
          violated(`muted until ${String(vars['until'])}, answered ${conversation.mutedUntil}`);
        }
        return;
      }
      case 'registerPushSubscription':
      case 'vapidPublicKey': {
        if (ok && w.pushEndpoints.length === 0) violated(`${c.op} answered without VAPID keys`);
        if (!ok && c.op === 'vapidPublicKey' && w.pushEndpoints.length > 0) {
          violated('no VAPID key where the server has one');
        }
        return;
      }
      case 'searchMessages': {
        const edges = (root as { edges?: { node: MessageView }[] } | null | undefined)?.edges;
        forwardPage(vars['first'], 50, 20, edges);
        for (const { node } of edges ?? []) {
          // (Alice's conversations include ones the fuzzing opened: only the victims' are known
          // not to be hers.)
          if (w.victimConversationIds.includes(node.conversationId)) {
            violated("a match in a victim's conversation");
          }
          if (node.body === null || node.kind !== 'USER') violated('a deleted or system match');
        }
        return;
      }
      case 'publicConversations': {
        const edges = (root as { edges?: { node: ConversationView }[] } | null | undefined)?.edges;
        forwardPage(vars['first'], 100, 20, edges);
        for (const { node } of edges ?? []) {
          if (node.visibility !== 'PUBLIC') violated(`a ${node.visibility} group in the directory`);
          if (
            node.myRole === null &&
            (node.members.length > 0 || node.memberships.length > 0 || node.lastMessage !== null)
          ) {
            violated(`an outsider sees members or messages: ${JSON.stringify(node).slice(0, 300)}`);
          }
        }
        return;
      }
      case 'node':
        return checkNode(root ?? null);
      case 'nodes': {
        const ids = vars['ids'];
        const list = root as unknown[] | null | undefined;
        if (Array.isArray(ids) && ids.length > 100 && list) violated(`${ids.length} ids answered`);
        if (list && Array.isArray(ids) && list.length !== ids.length) {
          violated(`${list.length} nodes for ${ids.length} ids`);
        }
        for (const node of list ?? []) checkNode(node);
        return;
      }
      default:
        return;
    }
  };
}

const LOGIN_FAILED = 'Wrong phone number or password.';

/** The contract's phone rule: drop spaces, dashes, dots and brackets; then + and 8–15 digits. */
function normalizePhone(input: string): string | null {
  const compact = input.replace(/[\s\-.()[\]]/g, '');
  return /^\+\d{8,15}$/.test(compact) ? compact : null;
}

// ---------------------------------------------------------------------------------------------
// Hostile documents

const meChain = (depth: number) => {
  // me(1) { presence(2) { user(3) { ... } } } with `depth` levels above the leaf field.
  let inner = 'id';
  for (let level = depth; level >= 2; level--) {
    inner =
      level % 2 === 0 ? `presence { ${inner === 'id' ? 'status' : inner} }` : `user { ${inner} }`;
  }
  return `{ me { ${inner} } }`;
};

const doc = (query: string, op = 'document'): Case => ({
  op,
  kind: 'document',
  query,
  variables: {},
  auth: { kind: 'alice' },
});

/** Protocol corner cases: fragment cycles, operation selection, subscriptions over HTTP... */
const PROTOCOL_DOCUMENTS: readonly Case[] = [
  doc(`{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }`, 'cycle'),
  doc(`{ me { ...Missing } }`, 'unknown fragment'),
  doc(`{ me { ... on Conversation { id } } }`, 'impossible fragment'),
  doc(`query A { me { id } } query B { me { id } }`, 'two operations, no name'),
  doc(`subscription { messageAdded { id body } }`, 'subscription over HTTP'),
  doc(
    `{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }`,
    'introspection',
  ),
  doc(`{ __typename }`, 'typename'),
  doc(`mutation { __typename }`, 'mutation typename'),
  doc(`{ me { id } me: userByPhone(phone: "+15551234567") { id } }`, 'conflicting alias'),
  doc(`{ me { id password passwordHash } }`, 'hidden fields'),
  doc(
    `{ conversations { edges { node { messages { edges { node { sender { presence { user { presence { user { id } } } } } } } } } } } }`,
    'default page sizes',
  ),
];

function documentCases(a: Arbs): CaseArb {
  const intLiteral = fc.oneof(
    fc.integer({ min: -5, max: 150 }),
    fc.constantFrom(0, 100, 101, 2_147_483_647, 2_147_483_648, 99_999_999_999),
  );
  return fc.oneof(
    // Deep nesting.
    fc.integer({ min: 1, max: 40 }).map((d) => doc(meChain(d), `depth ${d + 1}`)),
    // Many aliases.
    fc
      .tuple(
        fc.integer({ min: 1, max: 60 }),
        fc.constantFrom('me { id }', 'conversations(first: 1) { edges { cursor } }'),
      )
      .map(([n, sel]) =>
        doc(
          `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${sel}`).join(' ')} }`,
          `aliases ${n}`,
        ),
      ),
    // Large (and negative, and out-of-Int) page sizes, nested.
    fc.tuple(intLiteral, intLiteral, fc.constantFrom('first', 'last')).map(([n, m, dir]) =>
      doc(
        `{ conversations(${dir}: ${n}) { edges { node { id members { id } messages(${dir}: ${m}) {
            edges { node { id body sender { id displayName presence { status } } } } } } } } }`,
        `pages ${dir} ${n}×${m}`,
      ),
    ),
    // A conversation by a literal id with a cursor literal.
    fc
      .tuple(a.conversationId, a.cursor, intLiteral)
      .filter(([id, cursor]) => typeof id === 'string' && typeof cursor === 'string')
      .map(([id, cursor, n]) =>
        doc(
          `{ conversation(id: ${JSON.stringify(id)}) { id messages(first: ${n}, after: ${JSON.stringify(cursor)}) { edges { node { id body } } } } }`,
          'literal arguments',
        ),
      ),
    // Many tokens.
    fc
      .integer({ min: 1, max: 6_000 })
      .map((n) => doc(`{ me { ${'id '.repeat(n)} } }`, `tokens ${n}`)),
    // Many directives.
    fc
      .integer({ min: 1, max: 30 })
      .map((n) => doc(`{ me { id ${'@include(if: true) '.repeat(n)} } }`, `directives ${n}`)),
  );
}

/** Garbage documents and mangled valid ones. */
function garbageDocuments(): CaseArb {
  return fc.oneof(
    hostileString.map((q) => doc(q, 'garbage')),
    fc
      .tuple(fc.constantFrom(...Object.values(DOCS)), fc.nat(), fc.nat({ max: 20 }), hostileString)
      .map(([q, at, cut, insert]) => {
        const i = at % (q.length + 1);
        return doc(q.slice(0, i) + insert + q.slice(i + cut), 'mangled');
      }),
  );
}

/** Request bodies of the protocol's corners. */
const PROTOCOL_BODIES: readonly string[] = [
  '',
  'null',
  '[]',
  '{}',
  '{"query": ',
  '{"query": null}',
  '{"query": 42}',
  '{"query": ["{ me { id } }"]}',
  '{"query": "{ me { id } }", "variables": "x"}',
  '{"query": "{ me { id } }", "variables": [1]}',
  '{"query": "{ me { id } }", "operationName": 5}',
  '{"query": "{ me { id } }", "operationName": "Nope"}',
  '{"query": "{ me { id } }", "extensions": "x"}',
  '{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}',
  '{"query": "{ me { id } }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}',
  '{"query": "{ me { id } }", "extensions": {"persistedQuery": {"version": 2}}}',
  '[{"query": "{ me { id } }"}, {"query": "{ me { id } }"}]',
  '{"query": "{ me { id } }", "__proto__": {"admin": true}}',
  '\u0000',
  '{"query": "{ me { id } }"',
];

/** Whole request bodies that are not a well-formed GraphQL request. */
const RAW_BODIES: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 50 }),
  fc
    .record({
      query: fc.oneof(fc.constantFrom(...Object.values(DOCS)), hostileString, wrongType),
      variables: fc.oneof(wrongType, fc.jsonValue({ maxDepth: 2 })),
      operationName: fc.oneof(fc.constant(undefined), hostileString, wrongType),
    })
    .map((r) => JSON.stringify(r)),
);

/** Authorization header values that must not authenticate anyone. */
async function badAuthHeaders(w: World): Promise<string[]> {
  const forged = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(w.alice.id)
    .setIssuer('parley')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(randomBytes(32));
  const [header, payload, signature] = w.alice.token.split('.') as [string, string, string];
  const none = `${b64('{"alg":"none","typ":"JWT"}')}.${payload}.`;
  const otherSubject = b64(JSON.stringify({ sub: w.carol.id, iss: 'parley', exp: 9_999_999_999 }));
  return [
    `Bearer ${forged}`,
    `Bearer ${none}`,
    `Bearer ${header}.${otherSubject}.${signature}`,
    `Bearer ${header}.${payload}.${signature.slice(0, -2)}AA`,
    `Bearer ${w.alice.token}x`,
    `Bearer ${w.alice.token} ${w.alice.token}`,
    `Basic ${w.alice.token}`,
    w.alice.token,
    'Bearer',
    'Bearer ',
    'Bearer null',
    'Bearer undefined',
    'Bearer eyJ.eyJ.sig',
  ];
}

// ---------------------------------------------------------------------------------------------
// The properties

const OPS = Object.keys(DOCS) as Op[];
/** Operations without arguments: a few runs say all there is to say. */
const FIXED_OPS: ReadonlySet<Op> = new Set(['me', 'blockedUsers', 'vapidPublicKey']);

describe.each(backends())('fuzzing every operation on $name', ({ name, available }) => {
  /** Runs per property: full on PGlite, a third on PostgreSQL. */
  const runs = (n: number) => (name === 'pglite' ? n : Math.max(10, Math.round(n / 3)));
  const params = (n: number) => ({ numRuns: runs(n) });
  const TIMEOUT = 240_000;
  let w: World;
  let arbs: Arbs;
  let ops: Record<Op, CaseArb>;

  beforeAll(async () => {
    if (!available) return;
    const app = await startApp(name);
    w = await buildWorld(app, name);
    arbs = arbitraries(w);
    ops = operationCases(w, arbs);
  });
  afterAll(async () => {
    await w?.app.close();
    const mine = [...casesByProperty].filter(([p]) => p.startsWith(`${name}: `));
    const here = mine.reduce((sum, [, n]) => sum + n, 0);
    console.log(
      [
        `fuzz.test.ts on ${name}: ${here} generated cases (${totalCases} in this file so far)`,
        ...mine.map(([p, n]) => `  ${p.slice(name.length + 2)}: ${n}`),
      ].join('\n'),
    );
  });

  // One property per operation, so a failure in one does not hide the others.
  for (const op of OPS) {
    const numRuns = FIXED_OPS.has(op) ? 10 : op === 'register' || op === 'login' ? 30 : 50;
    it.skipIf(!available)(
      `${op}: hostile inputs get contract errors, leak nothing, fail without writing`,
      async () => {
        const oracle = oracleFor(w);
        await fc.assert(
          fc.asyncProperty(ops[op], async (c) => {
            await exercise(w, `${name}: ${op}`, c, oracle);
          }),
          params(numRuns),
        );
      },
      TIMEOUT,
    );
  }

  it.skipIf(!available)(
    'every operation without a valid session: UNAUTHENTICATED, nothing answered or written',
    async () => {
      const headers = await badAuthHeaders(w);
      const auth: fc.Arbitrary<Auth> = fc.oneof(
        fc.constant<Auth>({ kind: 'none' }),
        fc.constantFrom(...headers).map((header): Auth => ({ kind: 'raw', header })),
        fc
          .stringMatching(/^[\x20-\x7e]{0,120}$/)
          .map((s): Auth => ({ kind: 'raw', header: `Bearer ${s}` })),
        fc
          .stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,120}$/)
          .map((header): Auth => ({ kind: 'raw', header })),
      );
      const arb = fc
        .tuple(
          fc.constantFrom(...OPS).chain((op) => ops[op]),
          auth,
        )
        .map(([c, a]): Case => ({ ...c, auth: a }));
      await fc.assert(
        fc.asyncProperty(arb, async (c) => {
          const reply = await exercise(w, `${name}: unauthenticated`, c);
          if (c.op === 'register' || c.op === 'login') return;
          if (reply.errors.length === 0) violated('answered without a valid session');
          for (const e of reply.errors) {
            const code = codeOf(e);
            if (code !== 'UNAUTHENTICATED' && code !== 'BAD_USER_INPUT') {
              violated(`without a session: ${JSON.stringify(e)}`);
            }
          }
        }),
        params(200),
      );
    },
    TIMEOUT,
  );

  it.skipIf(!available)(
    "another user's conversations, messages and cursors answer exactly like ones that do not exist",
    async () => {
      const victimConversation = fc.constantFrom(...w.victimConversationIds);
      const victimMessage = fc.constantFrom(...w.victimMessageIds);
      const validBody = fc.constantFrom('hello', 'x', '😀');
      const pageVars = fc.record({
        first: fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 100 })),
        after: fc.oneof(fc.constant(undefined), fc.constantFrom(...w.victimCursors)),
      });
      const timeWindow = fc.record(
        {
          since: fc.constantFrom('2000-01-01T00:00:00.000Z', new Date().toISOString()),
          until: fc.constant(FUTURE),
        },
        { requiredKeys: [] },
      );
      const arb: CaseArb = fc.oneof(
        victimConversation.map((id) => opCase('conversation', { id })),
        fc
          .tuple(victimConversation, pageVars)
          .map(([conversationId, v]) => opCase('messages', { conversationId, ...v })),
        fc
          .tuple(victimConversation, pageVars)
          .map(([id, v]) => opCase('conversationMessages', { id, ...v })),
        fc
          .tuple(victimConversation, validBody, fc.option(fc.uuid(), { nil: undefined }))
          .map(([conversationId, body, clientMessageId]) =>
            opCase('sendMessage', { input: { conversationId, body, clientMessageId } }),
          ),
        fc
          .tuple(victimMessage, validBody)
          .map(([messageId, body]) => opCase('editMessage', { input: { messageId, body } })),
        victimMessage.map((messageId) => opCase('deleteMessage', { messageId })),
        victimMessage.map((messageId) => opCase('markRead', { messageId })),
        fc
          .tuple(victimConversation, fc.subarray([w.alice.phone, w.bob.phone, w.frank.phone]))
          .map(([conversationId, phones]) => opCase('addMembers', { conversationId, phones })),
        victimConversation.map((conversationId) => opCase('leaveConversation', { conversationId })),
        fc
          .tuple(victimConversation, fc.boolean())
          .map(([conversationId, isTyping]) => opCase('setTyping', { conversationId, isTyping })),
        fc
          .tuple(fc.constantFrom(...w.ownConversationIds), pageVars)
          .map(([conversationId, v]) => opCase('messages', { conversationId, ...v })),
        fc
          .constantFrom(w.carol.phone, w.dave.phone)
          .map((phone) => opCase('userByPhone', { phone })),
        // The operations added since: the same answer as for an id that does not exist.
        fc
          .tuple(victimConversation, pageVars, timeWindow)
          .map(([conversationId, v, t]) => opCase('messages', { conversationId, ...v, ...t })),
        fc
          .tuple(victimMessage, fc.constantFrom('👍', '🔥', ':tada:'))
          .map(([messageId, emoji]) => opCase('addReaction', { messageId, emoji })),
        fc
          .tuple(victimMessage, fc.constantFrom('👍', '🔥', ':tada:'))
          .map(([messageId, emoji]) => opCase('removeReaction', { messageId, emoji })),
        victimMessage.map((messageId) => opCase('markUnread', { messageId })),
        fc
          .tuple(victimConversation, fc.constantFrom('three', 'VICTIM', w.marker, 'o'))
          .map(([conversationId, query]) => opCase('searchMessages', { conversationId, query })),
        fc
          .tuple(victimConversation, fc.constantFrom(...w.victimUserIds, w.bob.id))
          .map(([conversationId, userId]) => opCase('removeMember', { conversationId, userId })),
        fc
          .tuple(
            victimConversation,
            fc.constantFrom(...w.victimUserIds, w.bob.id),
            fc.constantFrom('ADMIN', 'MEMBER', 'OWNER'),
          )
          .map(([conversationId, userId, role]) =>
            opCase('setMemberRole', { conversationId, userId, role }),
          ),
        fc
          .tuple(
            victimConversation,
            fc.record(
              {
                title: fc.constant('Mine now'),
                description: fc.constant('x'),
                visibility: fc.constantFrom('PUBLIC', 'PRIVATE'),
              },
              { requiredKeys: [] },
            ),
          )
          .map(([conversationId, more]) =>
            opCase('updateConversation', { input: { conversationId, ...more } }),
          ),
        fc
          .tuple(victimConversation, fc.option(fc.constant(5), { nil: undefined }))
          .map(([conversationId, maxUses]) => opCase('createInvite', { conversationId, maxUses })),
        victimConversation.map((conversationId) => opCase('joinConversation', { conversationId })),
        fc
          .tuple(victimConversation, fc.option(fc.constant(FUTURE), { nil: undefined }))
          .map(([conversationId, until]) => opCase('muteConversation', { conversationId, until })),
        victimConversation.map((conversationId) =>
          opCase('unmuteConversation', { conversationId }),
        ),
        fc.constantFrom(...w.victimInviteCodes).map((code) => opCase('revokeInvite', { code })),
        fc.oneof(victimConversation, victimMessage).map((id) => opCase('node', { id })),
        fc
          .array(fc.oneof(victimConversation, victimMessage), { minLength: 1, maxLength: 4 })
          .map((ids) => opCase('nodes', { ids })),
      );
      // The same case with every victim id swapped for an id of the same shape that does not exist.
      const swapped = (c: Case): Case => {
        let text = JSON.stringify(c.variables);
        for (const id of w.victimConversationIds) text = text.split(id).join(GHOST_CONVERSATION);
        w.victimMessageIds.forEach((id, i) => {
          text = text
            .split(id)
            .join(encodeMessageId({ conversationId: GHOST_CONVERSATION, seq: i + 1 }));
        });
        for (const code of w.victimInviteCodes) text = text.split(code).join(GHOST_INVITE);
        return { ...c, variables: JSON.parse(text) as unknown };
      };
      const oracle = oracleFor(w);
      await fc.assert(
        fc.asyncProperty(arb, async (c) => {
          const reply = await exercise(w, `${name}: isolation`, c, oracle);
          const root = reply.data?.[c.field!];
          if (c.op === 'userByPhone') {
            const user = root as { presence: unknown } | null;
            // Phone lists (createGroupConversation, addMembers) spend the same lookup budget:
            // once the fuzzing has spent it, a lookup is refused, which says nothing either way.
            if (!user && reply.errors?.[0]?.extensions?.['code'] === 'RATE_LIMITED') return;
            if (!user) violated('userByPhone did not find a registered user');
            if (user.presence !== null) violated("a stranger's presence is visible");
            return;
          }
          if (
            c.op === 'messages' &&
            w.ownConversationIds.includes(
              String((c.variables as { conversationId: string }).conversationId),
            )
          ) {
            return; // a victim's cursor on alice's own conversation: only alice's messages
          }
          if (c.op === 'nodes' && Array.isArray(root) && root.every((n) => n === null)) {
            // nodes answers a list: null in the place of each id alice may not see.
          } else if (root !== null && root !== undefined) {
            violated(
              `answered for a conversation alice is not in: ${JSON.stringify(root).slice(0, 300)}`,
            );
          }
          for (const e of reply.errors) {
            // NOT_FOUND, or BAD_USER_INPUT for arguments refused before the lookup (the same for an
            // id that does not exist: compared below).
            const code = codeOf(e);
            if (code !== 'NOT_FOUND' && code !== 'BAD_USER_INPUT') {
              violated(`expected NOT_FOUND, got ${JSON.stringify(e)}`);
            }
          }
          if (
            !['conversation', 'conversationMessages', 'node', 'nodes'].includes(c.op) &&
            reply.errors.length === 0
          ) {
            violated('no error for a conversation alice is not in');
          }
          const ghost = await exercise(w, `${name}: isolation`, swapped(c), oracle);
          const shape = (r: Reply) =>
            JSON.stringify({
              data: r.data,
              errors: r.errors.map((e) => ({ message: e.message, code: codeOf(e) })),
            });
          if (shape(reply) !== shape(ghost)) {
            violated(`distinguishable from a missing id: ${shape(reply)} vs ${shape(ghost)}`);
          }
        }),
        params(200),
      );
    },
    TIMEOUT,
  );

  it.skipIf(!available)(
    'hostile documents (depth, aliases, page sizes, tokens, directives, garbage) are refused by the limits',
    async () => {
      await fc.assert(
        fc.asyncProperty(documentCases(arbs), async (c) => {
          await exercise(w, `${name}: document shapes`, c, documentOracle);
        }),
        params(200),
      );
    },
    TIMEOUT,
  );

  it.skipIf(!available)(
    'garbage and mangled documents get a parse or validation error',
    async () => {
      await fc.assert(
        fc.asyncProperty(garbageDocuments(), async (c) => {
          await exercise(w, `${name}: garbage documents`, c);
        }),
        params(150),
      );
    },
    TIMEOUT,
  );

  it.skipIf(!available)(
    'protocol corner cases (operation selection, subscriptions over HTTP, fragments, APQ) get contract errors',
    async () => {
      const corner = fc.oneof(
        fc.constantFrom(...PROTOCOL_DOCUMENTS),
        fc
          .constantFrom(...PROTOCOL_BODIES)
          .map((rawBody): Case => ({ ...doc('', 'raw body'), rawBody })),
      );
      await fc.assert(
        fc.asyncProperty(corner, async (c) => {
          await exercise(w, `${name}: protocol corner cases`, c);
        }),
        params(60),
      );
    },
    TIMEOUT,
  );

  it.skipIf(!available)(
    'text is stored exactly as acknowledged, or refused (lone UTF-16 surrogates)',
    async () => {
      const own = fc.constantFrom(...w.ownMessageIds);
      const conversationId = fc.constantFrom(...w.ownConversationIds);
      const text = fc
        .tuple(
          fc.string({ unit: 'grapheme-ascii', maxLength: 10 }),
          fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', '\ude00\ud83d'),
          fc.string({ unit: 'grapheme-ascii', maxLength: 10 }),
        )
        .map(([x, lone, y]) => `a${x}${lone}${y}z`);
      const arb = fc.oneof(
        text.map((displayName) => ({
          c: opCase('updateProfile', { input: { displayName } }),
          sent: displayName,
          read: (d: Record<string, unknown>) => d['displayName'],
        })),
        fc.tuple(conversationId, text).map(([id, body]) => ({
          c: opCase('sendMessage', { input: { conversationId: id, body } }),
          sent: body,
          read: (d: Record<string, unknown>) => d['body'],
        })),
        fc.tuple(conversationId, text).map(([id, clientMessageId]) => ({
          c: opCase('sendMessage', { input: { conversationId: id, body: 'x', clientMessageId } }),
          sent: clientMessageId,
          read: (d: Record<string, unknown>) => d['clientMessageId'],
        })),
        fc.tuple(own, text).map(([messageId, body]) => ({
          c: opCase('editMessage', { input: { messageId, body } }),
          sent: body,
          read: (d: Record<string, unknown>) => d['body'],
        })),
        text.map((title) => ({
          c: opCase('createGroupConversation', { input: { title, memberPhones: [] } }),
          sent: title,
          read: (d: Record<string, unknown>) => d['title'],
        })),
      );
      await fc.assert(
        fc.asyncProperty(arb, async ({ c, sent, read }) => {
          const reply = await exercise(w, `${name}: lone surrogates`, c);
          const root = reply.data?.[c.field!] as Record<string, unknown> | null | undefined;
          if (!root) return expectCode(reply, ['BAD_USER_INPUT', 'NOT_FOUND'], 'refused text');
          const stored = read(root);
          if (stored !== sent) {
            violated(`acknowledged ${JSON.stringify(sent)} but stored ${JSON.stringify(stored)}`);
          }
        }),
        params(40),
      );
    },
    TIMEOUT,
  );

  it.skipIf(!available)(
    'malformed request bodies get a JSON GraphQL error',
    async () => {
      await fc.assert(
        fc.asyncProperty(RAW_BODIES, async (rawBody) => {
          await exercise(w, `${name}: raw bodies`, {
            op: 'raw body',
            kind: 'document',
            query: '',
            rawBody,
            auth: { kind: 'alice' },
          });
        }),
        params(150),
      );
    },
    TIMEOUT,
  );

  it.skipIf(!available)(
    'a small document is validated in bounded time, however its fragments spread',
    async () => {
      // Each fragment spreads the next one `width` times: width^depth paths through a document
      // of a few hundred bytes. Bounded here so that an exponential validator stalls the test
      // process for seconds, not hours (it runs in this process).
      const bomb = fc.integer({ min: 2, max: 4 }).chain((width) => {
        const max = Math.floor(21 / Math.log2(width)); // about 2^21 paths at most
        // Half of the runs near the top, so that a slow validator is caught every time.
        return fc
          .oneof(fc.integer({ min: 1, max }), fc.integer({ min: max - 2, max }))
          .map((depth) => ({ width, depth }));
      });
      await fc.assert(
        fc.asyncProperty(bomb, async ({ width, depth }) => {
          const fragments = Array.from({ length: depth }, (_, i) =>
            i + 1 < depth
              ? `fragment F${i} on User { ${`...F${i + 1} `.repeat(width)}}`
              : `fragment F${i} on User { id }`,
          );
          const query = `query { me { ...F0 } }\n${fragments.join('\n')}`;
          const started = performance.now();
          await exercise(w, `${name}: fragment spreads`, {
            op: `fragments ${width}^${depth}`,
            kind: 'document',
            query,
            variables: {},
            auth: { kind: 'alice' },
          });
          const ms = Math.round(performance.now() - started);
          if (ms > FRAGMENT_BUDGET_MS) {
            violated(
              `a ${query.length}-byte document (${depth} fragments, each spreading the next ${width}×) took ${ms} ms; the event loop was blocked meanwhile`,
            );
          }
        }),
        // Not scaled down on PostgreSQL: this is about the transport, and a few runs could miss.
        { numRuns: 40 },
      );
    },
    TIMEOUT,
  );

  for (const bug of FOUND_BUGS.filter((b) => b.on.includes(name))) {
    it.skipIf(!available)(
      `found by fuzzing, fixed: ${bug.name} is BAD_USER_INPUT and writes nothing`,
      async () => {
        const repro = bug.repro(w);
        const reply = await exercise(w, `${name}: found bugs`, repro, oracleFor(w));
        expect(reply.errors.map(codeOf)).toEqual(['BAD_USER_INPUT']);
      },
    );
  }

  it.skipIf(!available)('the server still answers after all of it', async () => {
    const reply = await post(w.app, { query: '{ me { id } }' }, `Bearer ${w.alice.token}`);
    expect(reply.errors).toEqual([]);
    expect(reply.data).toEqual({ me: { id: w.alice.id } });
  });
});

const GHOST_CONVERSATION = '0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f';
/** An invite code of the same shape as a real one that no group has. */
const GHOST_INVITE = 'GhostGhostGhostGhost00';
const FUTURE = '2999-01-01T00:00:00.000Z';
const FRAGMENT_BUDGET_MS = 1_000;

/** Expected answers of the shape-limit cases (depth ≤ 12, aliases ≤ 20, tokens ≤ 5,000). */
const documentOracle: Oracle = (reply, c) => {
  const [kind, n] = c.op.split(' ');
  const value = Number(n);
  const codes = reply.errors.map(codeOf);
  const refused = codes.includes('GRAPHQL_VALIDATION_FAILED');
  if (kind === 'depth' || kind === 'aliases') {
    const over = kind === 'depth' ? value > 12 : value > 20;
    if (over && !refused) violated(`${c.op} was not refused: ${reply.text.slice(0, 300)}`);
    if (!over && reply.errors.length > 0)
      violated(`${c.op} was refused: ${reply.text.slice(0, 300)}`);
  }
  if (kind === 'tokens') {
    if (value > 5_000 && !codes.includes('GRAPHQL_PARSE_FAILED')) {
      violated(`${c.op} was not refused: ${reply.text.slice(0, 300)}`);
    }
    // Below the token limit graphql-js may still abort validation of hundreds of repeated
    // fields (its own overlap budget): refused as GRAPHQL_VALIDATION_FAILED, which is fine.
    if (value < 4_990 && reply.errors.some((e) => codeOf(e) !== 'GRAPHQL_VALIDATION_FAILED')) {
      violated(`${c.op} was refused: ${reply.text.slice(0, 300)}`);
    }
  }
  if (kind === 'directives') {
    if (value > 10 && !refused) violated(`${c.op} was not refused: ${reply.text.slice(0, 300)}`);
    if (value === 1 && reply.errors.length > 0)
      violated(`${c.op} was refused: ${reply.text.slice(0, 300)}`);
  }
  if (kind === 'pages') {
    const [outer, inner] = c.op.split(' ')[2]!.split('×').map(Number) as [number, number];
    const bad = (n: number) => n > 100 || n < 0;
    if (bad(outer) && reply.errors.length === 0) violated(`${c.op} was answered`);
    // The inner page size is only looked at for the conversations that are there.
    const edges = (reply.data?.['conversations'] as { edges?: unknown[] } | undefined)?.edges;
    if (bad(inner) && reply.errors.length === 0 && (edges?.length ?? 0) > 0) {
      violated(`${c.op} was answered`);
    }
  }
};
