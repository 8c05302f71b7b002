// A store outage is a pause, never an end: with subscribers of every kind open on two instances,
// PostgreSQL is restarted fast, then crashed and restarted (immediate), then Redis is restarted.
// Every stream stays open, every acknowledged message arrives once and in order, and no client
// sees INTERNAL_SERVER_ERROR (a stream used to end with it on the first event after a restart,
// when each event's membership was checked against the database).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createGroupAt,
  gqlAt,
  okAt,
  registerAt,
  startServerProcess,
  type E2eUser,
  type ServerProcess,
} from '../support/process.js';
import {
  createDatabase,
  startPostgres,
  startRedis,
  type PostgresService,
  type Service,
} from '../support/services.js';
import { connect, subscribe, type Received } from '../support/ws.js';

const postgresUrl = inject('postgresUrl');
const redisUrl = inject('redisUrl');
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq cursor } }`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Added {
  id: string;
  seq: number;
  conversationId: string;
  body: string;
}

const dirs: string[] = [];
const servers: ServerProcess[] = [];
const clients: Client[] = [];
const ownServices: Service[] = [];
afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.dispose()));
  await Promise.allSettled(servers.map((s) => s.stop('SIGKILL')));
  await Promise.allSettled(ownServices.map((s) => s.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!postgresUrl || !redisUrl)(
  'PostgreSQL and Redis restarted under open streams',
  () => {
    let pg: PostgresService;
    let redis: Service;
    let a: ServerProcess;
    let b: ServerProcess;
    let ann: E2eUser;
    let bob: E2eUser;

    beforeAll(async () => {
      // Durable (fsync, synchronous_commit on): a crash must not lose what was acknowledged, or
      // "every acknowledged message arrives" would not hold for the database itself.
      [pg, redis] = (await Promise.all([startPostgres({ durable: true }), startRedis()])) as [
        PostgresService,
        Service,
      ];
      ownServices.push(pg, redis);
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-restarts-'));
      dirs.push(dataDir);
      const env = {
        DATABASE_URL: await createDatabase(pg.url),
        REDIS_URL: redis.url,
        NODE_ENV: 'production',
        JWT_SECRET: 'restarts-e2e-secret-restarts-e2e-secret-restarts',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        OUTBOX_GRACE_MS: '500',
        OUTBOX_DRAIN_INTERVAL_MS: '250',
      };
      [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
      servers.push(a, b);
      [ann, bob] = await Promise.all([registerAt(a, 'Ann'), registerAt(b, 'Bob')]);
    });

    const wsOf = (server: ServerProcess, user: E2eUser) => {
      const c = connect(server.url.replace(/^http/, 'ws'), user.token);
      clients.push(c);
      return c;
    };

    /** Sends until acknowledged, retrying with the same clientMessageId (the store may be away). */
    async function sendSurely(conversationId: string, body: string) {
      const clientMessageId = randomUUID();
      for (let attempt = 0; ; attempt++) {
        const server = attempt % 2 === 0 ? a : b;
        const res = await gqlAt<{ sendMessage: { id: string; seq: number; cursor: string } }>(
          server.url,
          SEND,
          { input: { conversationId, body, clientMessageId } },
          ann.token,
        ).catch(() => null);
        if (res?.data?.sendMessage) return res.data.sendMessage;
        expect(attempt, `"${body}" was never acknowledged`).toBeLessThan(150);
        await sleep(200);
      }
    }

    /** Repeats `act` until `seen` holds (ephemeral events may be lost while a store is away). */
    async function until(what: string, act: () => Promise<unknown>, seen: () => boolean) {
      for (let attempt = 0; !seen(); attempt++) {
        expect(attempt, `never saw ${what}`).toBeLessThan(60);
        await act().catch(() => undefined);
        for (let i = 0; i < 5 && !seen(); i++) await sleep(100);
      }
    }

    it('keeps every stream open, delivers every acknowledged message once, and never answers INTERNAL_SERVER_ERROR', async () => {
      const group = await createGroupAt(a, ann, [bob]);
      const first = await sendSurely(group, 'before everything');
      const { messages } = await okAt<{
        messages: { edges: { cursor: string }[] };
      }>(
        b,
        `query($id: ID!) { messages(conversationId: $id, last: 1) { edges { cursor } } }`,
        { id: group },
        bob.token,
      );
      const after = messages.edges[0]!.cursor;

      const streams: Record<string, Received<Record<string, unknown>>> = {
        'messageAdded(conversation) on B': subscribe(
          wsOf(b, bob),
          `subscription($id: ID, $after: String) { messageAdded(conversationId: $id, after: $after) { id seq conversationId body } }`,
          { id: group, after },
        ),
        'messageAdded(all) on A': subscribe(
          wsOf(a, bob),
          `subscription { messageAdded { id seq conversationId body } }`,
        ),
        'messageUpdated on B': subscribe(
          wsOf(b, bob),
          `subscription($id: ID) { messageUpdated(conversationId: $id) { id body } }`,
          { id: group },
        ),
        'typingChanged on A': subscribe(
          wsOf(a, bob),
          `subscription($id: ID!) { typingChanged(conversationId: $id) { isTyping user { id } } }`,
          { id: group },
        ),
        'readReceiptUpdated on B': subscribe(
          wsOf(b, bob),
          `subscription($id: ID!) { readReceiptUpdated(conversationId: $id) { lastReadSeq } }`,
          { id: group },
        ),
        'presenceChanged on A': subscribe(
          wsOf(a, bob),
          `subscription { presenceChanged { status user { id } } }`,
        ),
      };
      const one = streams['messageAdded(conversation) on B']! as unknown as Received<Added>;
      const all = streams['messageAdded(all) on A']! as unknown as Received<Added>;
      // The stream of every conversation starts "now": send until it shows it is live.
      const acked: { id: string; seq: number; cursor: string }[] = [first];
      await until(
        'the all-conversations stream live',
        async () => acked.push(await sendSurely(group, 'warm-up')),
        () => all.items.length > 0,
      );

      /** Everything works again: each kind of stream shows something new. */
      const exercise = async (phase: string) => {
        const sent = await sendSurely(group, `${phase} message`);
        acked.push(sent);
        await one.until((x) => x.some((m) => m.id === sent.id), 30_000);
        await all.until((x) => x.some((m) => m.id === sent.id), 30_000);
        const updated = streams['messageUpdated on B']!;
        const editBody = `${phase} edit`;
        await until(
          `an edit after ${phase}`,
          () =>
            okAt(
              a,
              `mutation($i: EditMessageInput!) { editMessage(input: $i) { id } }`,
              { i: { messageId: sent.id, body: editBody } },
              ann.token,
            ),
          () => updated.items.some((m) => m['body'] === editBody),
        );
        const typing = streams['typingChanged on A']!;
        const typedBefore = typing.items.length;
        await until(
          `typing after ${phase}`,
          async () => {
            for (const on of [true, false]) {
              await okAt(
                b,
                `mutation($id: ID!, $on: Boolean!) { setTyping(conversationId: $id, isTyping: $on) }`,
                { id: group, on },
                ann.token,
              );
            }
          },
          () => typing.items.length > typedBefore,
        );
        const receipts = streams['readReceiptUpdated on B']!;
        await until(
          `a read receipt after ${phase}`,
          () =>
            okAt(
              a,
              `mutation($id: ID!) { markRead(messageId: $id) { id } }`,
              { id: sent.id },
              bob.token,
            ),
          () => receipts.items.some((r) => r['lastReadSeq'] === sent.seq),
        );
      };

      await exercise('start');

      // From here on Ann keeps sending (each send retried with its clientMessageId until it is
      // acknowledged), so events are in flight whenever a store goes away.
      let sending = true;
      const sender = (async () => {
        for (let n = 0; sending; n++) {
          acked.push(await sendSurely(group, `steady ${n}`));
          await sleep(50);
        }
      })();
      /** PostgreSQL down for a while; meanwhile Ann comes online and goes (presence to judge). */
      const late: Received<Added>[] = [];
      const postgresOutage = async (mode: 'fast' | 'immediate') => {
        await pg.stopKeepingData(mode);
        // Subscribing while it is down waits for it, then starts from the cursor given.
        late.push(
          subscribe<Added>(
            wsOf(b, bob),
            `subscription($id: ID, $after: String) { messageAdded(conversationId: $id, after: $after) { id seq conversationId body } }`,
            { id: group, after: acked[acked.length - 1]!.cursor },
          ),
        );
        const online = wsOf(a, ann);
        subscribe(online, `subscription { presenceChanged { status } }`);
        await sleep(1_000);
        await online.dispose();
        await sleep(1_000);
        await pg.start();
      };
      await postgresOutage('fast');
      await exercise('PostgreSQL fast restart');
      await postgresOutage('immediate');
      await exercise('PostgreSQL crash and restart');
      const port = Number(new URL(redis.url).port);
      await redis.stop();
      await sleep(1_000);
      redis = (await startRedis(port))!;
      ownServices.push(redis);
      await exercise('Redis restart');
      sending = false;
      await sender;
      const newest = Math.max(...acked.map((m) => m.seq));
      await one.until((x) => x.some((m) => m.seq === newest), 30_000);
      await all.until((x) => x.some((m) => m.seq === newest), 30_000);

      // Every acknowledged message once, in seq order, on both message streams.
      const expected = [...new Set(acked.map((m) => m.seq))].sort((x, y) => x - y);
      const seqsOf = (items: Added[]) =>
        items.filter((m) => m.conversationId === group).map((m) => m.seq);
      expect(seqsOf(one.items)).toEqual(expected.filter((s) => s > first.seq));
      for (const stream of late) {
        await stream.until((x) => x.some((m) => m.seq === newest), 30_000);
        const seqs = seqsOf(stream.items);
        expect(seqs).toEqual(expected.slice(expected.indexOf(seqs[0]!)));
        expect(stream.errors).toEqual([]);
      }
      const fromAll = seqsOf(all.items);
      expect(fromAll).toEqual(expected.slice(expected.indexOf(fromAll[0]!)));
      for (const [name, stream] of Object.entries(streams)) {
        expect({ name, errors: stream.errors, ended: stream.completed }).toEqual({
          name,
          errors: [],
          ended: false,
        });
      }
    }, 240_000);
  },
);
