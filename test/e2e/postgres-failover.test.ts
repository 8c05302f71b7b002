// PostgreSQL failover under traffic: a primary replicating synchronously to a standby, two Parley
// instances given both in a multi-host DATABASE_URL. With sends going to one instance and a
// subscription open on the other, the primary is killed (-9, postmaster and backends: a machine
// that died), the standby promoted (what Patroni would do), and the sender retries what failed
// with the same clientMessageId. Nothing that was acknowledged is lost (it is in history on the
// new primary and reaches the subscriber), no retry makes a second message, and sends succeed
// again within 10 s of the promotion, with no restart of either instance.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import webPush from 'web-push';
import {
  createGroupAt,
  okAt,
  registerAt,
  startServerProcess,
  type E2eUser,
  type ServerProcess,
} from '../support/process.js';
import { startPrimaryWithStandby, type PrimaryWithStandby } from '../support/postgres-standby.js';
import { createDatabase } from '../support/services.js';
import { connect, subscribe, type Received } from '../support/ws.js';

const redisUrl = inject('redisUrl');
const postgresUrl = inject('postgresUrl');
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Added {
  id: string;
  seq: number;
  body: string;
  clientMessageId: string | null;
  cursor: string;
}

interface Ack {
  clientMessageId: string;
  id: string;
  at: number;
  /** When the try that was acknowledged began. */
  triedAt: number;
  /** Tries it took (1: acknowledged the first time). */
  tries: number;
}

let pair: PrimaryWithStandby | undefined;
/** Takes the sends. */
let server: ServerProcess | undefined;
/** Holds the subscriber: another instance, told of each message through Redis. */
let reader: ServerProcess | undefined;
const clients: Client[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.dispose()));
  await Promise.allSettled([server?.stop('SIGKILL'), reader?.stop('SIGKILL')]);
  await pair?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!postgresUrl || !redisUrl)('PostgreSQL primary and synchronous standby', () => {
  let databaseUrl: string;
  let dbName: string;
  let ann: E2eUser;
  let bob: E2eUser;

  beforeAll(async () => {
    pair = (await startPrimaryWithStandby({ synchronous: true }))!;
    const created = new URL(await createDatabase(pair.primary.url));
    dbName = created.pathname.slice(1);
    const ports = [created.port, String(pair.standby.port)];
    databaseUrl = `postgres://postgres@${ports.map((p) => `127.0.0.1:${p}`).join(',')}/${dbName}?target_session_attrs=read-write`;
    const vapid = webPush.generateVAPIDKeys();
    const start = () => {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-failover-'));
      dirs.push(dataDir);
      return startServerProcess({
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        NODE_ENV: 'production',
        JWT_SECRET: 'failover-e2e-secret-failover-e2e-secret-failover',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        // The job queue (graphile-worker, node-postgres) runs too: it must follow the primary.
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: vapid.privateKey,
        OUTBOX_GRACE_MS: '500',
        OUTBOX_DRAIN_INTERVAL_MS: '250',
      });
    };
    [server, reader] = await Promise.all([start(), start()]);
    [ann, bob] = await Promise.all([registerAt(server, 'Ann'), registerAt(server, 'Bob')]);
  }, 60_000);

  /** One try of a send: its message, or null when it failed (any error, or no answer in 8 s). */
  async function trySend(conversationId: string, clientMessageId: string) {
    try {
      const res = await fetch(server!.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ann.token}` },
        body: JSON.stringify({
          query: SEND,
          variables: { input: { conversationId, body: `m ${clientMessageId}`, clientMessageId } },
        }),
        signal: AbortSignal.timeout(8_000),
      });
      const body = (await res.json()) as { data?: { sendMessage?: { id: string } } | null };
      return body.data?.sendMessage ?? null;
    } catch {
      return null;
    }
  }

  it('loses no acknowledged message, makes one message per retried send, and is back within 10 s of the promotion', async () => {
    const group = await createGroupAt(server!, ann, [bob]);
    // The subscription starts after an opening message (from its cursor: no race with the start).
    const opening = await trySend(group, randomUUID());
    expect(opening).not.toBeNull();
    const history = await okAt<{ messages: { edges: { cursor: string }[] } }>(
      server!,
      `query($id: ID!) { messages(conversationId: $id, last: 1) { edges { cursor } } }`,
      { id: group },
      bob.token,
    );
    const openingCursor = history.messages.edges[0]!.cursor;
    const ws = connect(reader!.url.replace(/^http/, 'ws'), bob.token);
    clients.push(ws);
    // Everything the subscriber got, across resubscriptions from its last cursor.
    const seen: Added[] = [];
    let current: Received<Added> | undefined;
    let resubscriptions = 0;
    const follow = () => {
      const after = seen.at(-1)?.cursor ?? openingCursor;
      const sub = subscribe<Added>(
        ws,
        `subscription($id: ID, $after: String) { messageAdded(conversationId: $id, after: $after) { id seq body clientMessageId cursor } }`,
        { id: group, after },
      );
      current = sub;
      const taken = new Set<Added>();
      const pump = setInterval(() => {
        for (const item of sub.items) {
          if (taken.has(item)) continue;
          taken.add(item);
          seen.push(item);
        }
        if (sub.completed) {
          clearInterval(pump);
          resubscriptions++;
          follow();
        }
      }, 20);
    };
    follow();

    // Four senders, one send at a time each (so some are in flight when the primary dies), each
    // send retried with its clientMessageId until acknowledged.
    const acks: Ack[] = [];
    let failedTries = 0;
    let sending = true;
    const lane = async () => {
      while (sending) {
        const clientMessageId = randomUUID();
        for (let tries = 1; ; tries++) {
          const triedAt = Date.now();
          const sent = await trySend(group, clientMessageId);
          if (sent) {
            acks.push({ clientMessageId, id: sent.id, at: Date.now(), triedAt, tries });
            break;
          }
          failedTries++;
          if (tries > 200) throw new Error(`send ${clientMessageId} never acknowledged`);
          await sleep(100);
        }
      }
    };
    const senders = Promise.all([lane(), lane(), lane(), lane()]);

    /** Waits for `n` sends tried (the try acknowledged) after `since`. */
    const waitForAcks = async (n: number, since = 0) => {
      const deadline = Date.now() + 20_000;
      while (acks.filter((a) => a.triedAt > since).length < n) {
        if (Date.now() > deadline) throw new Error(`fewer than ${n} sends acknowledged`);
        await sleep(20);
      }
    };
    await waitForAcks(40);

    const killedAt = Date.now();
    pair!.killPrimary();
    // Time to notice (what a failover manager would take), then promotion.
    await sleep(500);
    const promotingAt = Date.now();
    await pair!.standby.promote();
    const promotedAt = Date.now();
    await waitForAcks(1, killedAt);
    // Service is back: the first acknowledgement of a try made after the kill.
    const backAt = Math.min(...acks.filter((a) => a.triedAt > killedAt).map((a) => a.at));
    await waitForAcks(40, backAt);
    sending = false;
    await senders;

    // A client that never saw its acknowledgement sends again: the same message, not a new one.
    const replayed = acks.filter((a) => a.at < killedAt).slice(-5);
    for (const a of replayed) {
      const again = await trySend(group, a.clientMessageId);
      expect(again?.id).toBe(a.id);
    }

    // Every acknowledged send is in history on the new primary, exactly once.
    const sql = postgres(`${pair!.standby.url.replace(/\/postgres$/, '')}/${dbName}`, {
      max: 1,
      onnotice: () => {},
    });
    let rows: { clientMessageId: string; copies: number }[];
    try {
      rows = await sql`
        select client_message_id as "clientMessageId", count(*)::int as copies
        from messages where conversation_id = ${group} and client_message_id is not null
        group by client_message_id`;
    } finally {
      await sql.end({ timeout: 1 });
    }
    const stored = new Map(rows.map((r) => [r.clientMessageId, r.copies]));
    const lost = acks.filter((a) => !stored.has(a.clientMessageId));
    const duplicated = rows.filter((r) => r.copies !== 1);
    // ...and reached the subscriber (resuming from its cursor if its stream ended).
    await current!
      .until(() => acks.every((a) => seen.some((m) => m.id === a.id)), 20_000)
      .catch(() => undefined);
    const undelivered = acks.filter((a) => !seen.some((m) => m.id === a.id));
    const deliveredTwice = seen.length - new Set(seen.map((m) => m.id)).size;

    console.log(
      `[failover] acknowledged sends: ${acks.length} (${acks.filter((a) => a.tries > 1).length} after a retry, ${failedTries} failed tries, ${replayed.length} sent again after their acknowledgement); lost: ${lost.length}; duplicated: ${duplicated.length}; ` +
        `undelivered: ${undelivered.length}; subscriber resubscribed ${resubscriptions}×; ` +
        `promotion took ${promotedAt - promotingAt} ms; first send acknowledged ${backAt - promotingAt} ms after the promotion began (${backAt - killedAt} ms after the kill)`,
    );
    expect(lost).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(undelivered).toEqual([]);
    expect(deliveredTwice).toBe(0);
    expect(backAt - promotingAt).toBeLessThan(10_000);
    // No server was restarted: the same processes serve on the new primary...
    const port = (url: string) => new URL(url).port;
    for (const instance of [server!, reader!]) {
      expect(instance.child.exitCode).toBeNull();
      // ...and each told its operator where the primary went.
      expect(instance.output()).toMatch(
        new RegExp(
          `"primary":"127.0.0.1:${port(pair!.standby.url)}","previous":"127.0.0.1:${port(pair!.primary.url)}","msg":"database failover"`,
        ),
      );
    }
  }, 60_000);

  it('has the job queue (graphile-worker, node-postgres) listening on the new primary', async () => {
    const sql = postgres(`${pair!.standby.url.replace(/\/postgres$/, '')}/${dbName}`, {
      max: 1,
      onnotice: () => {},
    });
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const [row] = await sql<{ listeners: number }[]>`
          select count(*)::int as listeners from pg_stat_activity
          where datname = ${dbName} and query ilike '%listen "jobs:insert"%'`;
        if (row!.listeners > 0) break;
        expect(Date.now(), 'no job queue connection LISTENs on the new primary').toBeLessThan(
          deadline,
        );
        await sleep(200);
      }
    } finally {
      await sql.end({ timeout: 1 });
    }
  }, 60_000);
});
