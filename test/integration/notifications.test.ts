// Push notifications and webhooks against real local services: a Web Push service that checks
// VAPID and decrypts each payload (test/support/push-service.ts) and a webhook receiver that
// verifies Standard Webhooks signatures (test/support/webhook-receiver.ts).
import { sql } from 'drizzle-orm';
import webPush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  backends,
  errorCode,
  ok,
  registerUser,
  startApp,
  type TestApp,
  type TestUser,
} from '../support/app.js';
import { startPushService, type PushService } from '../support/push-service.js';
import {
  generateWebhookSecret,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';
import { connect, subscribe } from '../support/ws.js';

const PUSH_DELAY_MS = 1_000;
const REGISTER = `mutation($input: PushSubscriptionInput!) { registerPushSubscription(input: $input) }`;
const UNREGISTER = `mutation($e: String!) { unregisterPushSubscription(endpoint: $e) }`;
const GROUP = `mutation($input: CreateGroupConversationInput!) { createGroupConversation(input: $input) { id } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;
const MARK_READ = `mutation($m: ID!) { markRead(messageId: $m) { id } }`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dataOf = (d: { data: unknown }) => d.data as Record<string, unknown>;

interface PushJson {
  type: string;
  conversationId: string;
  messageId: string;
  seq: number;
  senderName: string;
  preview?: string;
  mentioned?: true;
}

// The tests run at once (each has its own conversation and devices); most of their time is the
// push delay.
describe.concurrent.each(backends())(
  'push notifications and webhooks on $name',
  ({ name, available }) => {
    let app: TestApp;
    let push: PushService;
    let hooks: WebhookReceiver;
    /** A second endpoint, taken down by one test. */
    let flakyHooks: WebhookReceiver;
    /**
     * A server whose only endpoint is flakyHooks, so the other cases' events do not queue up
     * behind its outage; started before the cases run at once.
     */
    let flakyApp: TestApp;
    const vapid = webPush.generateVAPIDKeys();

    beforeAll(async () => {
      if (!available) return;
      push = await startPushService({ vapidPublicKey: vapid.publicKey, tls: false });
      const secret = generateWebhookSecret();
      hooks = await startWebhookReceiver({ secret });
      flakyHooks = await startWebhookReceiver({ secret });
      app = await startApp(name, {
        env: {
          VAPID_PUBLIC_KEY: vapid.publicKey,
          VAPID_PRIVATE_KEY: vapid.privateKey,
          VAPID_SUBJECT: 'mailto:ops@example.com',
          PUSH_DELAY_MS: String(PUSH_DELAY_MS),
          PUSH_RETRY_BASE_MS: '200',
          WEBHOOK_URL: hooks.url,
          WEBHOOK_SECRET: hooks.secret,
          WEBHOOK_RETRY_BASE_MS: '200',
          ALLOW_PRIVATE_ENDPOINTS: 'true',
        },
      });
      flakyApp = await startApp(name, {
        env: {
          WEBHOOK_URL: flakyHooks.url,
          WEBHOOK_SECRET: flakyHooks.secret,
          WEBHOOK_RETRY_BASE_MS: '200',
          ALLOW_PRIVATE_ENDPOINTS: 'true',
          // No message.undelivered within its case: its events are exactly those it checks.
          PUSH_DELAY_MS: '600000',
        },
      });
    });
    afterAll(async () => {
      await flakyApp?.close();
      await app?.close();
      await push?.close();
      await hooks?.close();
      await flakyHooks?.close();
    });

    /** A group of a sender and recipients, each of them with a push subscription. */
    async function room(recipients = 1) {
      const [sender, ...others] = await Promise.all(
        ['Alice Sender', ...Array.from({ length: recipients }, (_, i) => `Recipient ${i}`)].map(
          (name) => withSubscription(name),
        ),
      );
      const id = ok(
        await app.gql<{ createGroupConversation: { id: string } }>(
          GROUP,
          { input: { title: 'Push room', memberPhones: others.map((o) => o.phone) } },
          sender!.token,
        ),
      ).createGroupConversation.id;
      return { sender: sender!, others, id };
    }

    async function withSubscription(name: string): Promise<TestUser & { endpoint: string }> {
      const user = await registerUser(app, name);
      const sub = push.createSubscription();
      ok(
        await app.gql(
          REGISTER,
          { input: { endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth } },
          user.token,
        ),
      );
      return { ...user, endpoint: sub.endpoint };
    }

    const send = async (user: TestUser, conversationId: string, body: string) =>
      ok(
        await app.gql<{ sendMessage: { id: string; seq: number } }>(
          SEND,
          { input: { conversationId, body } },
          user.token,
        ),
      ).sendMessage;

    const pushesTo = (endpoint: string) => push.received(endpoint).map((p) => p.json as PushJson);

    it.skipIf(!available)(
      'hands out the VAPID key and refuses a malformed subscription',
      async () => {
        const user = await registerUser(app);
        const key = ok(
          await app.gql<{ vapidPublicKey: string }>(`{ vapidPublicKey }`, {}, user.token),
        );
        expect(key.vapidPublicKey).toBe(vapid.publicKey);
        const sub = push.createSubscription();
        const bad = [
          { ...sub, endpoint: 'not a url' },
          { ...sub, endpoint: 'ftp://push.example.com/x' },
          { ...sub, p256dh: 'AAAA' },
          { ...sub, auth: 'short' },
        ];
        for (const input of bad) {
          const res = await app.gql(
            REGISTER,
            { input: { endpoint: input.endpoint, p256dh: input.p256dh, auth: input.auth } },
            user.token,
          );
          expect(errorCode(res)).toBe('BAD_USER_INPUT');
        }
        const [row] = await rows<{ n: number }>(
          sql`select count(*)::int as n from push_subscriptions where user_id = ${user.id}::uuid`,
        );
        expect(row!.n).toBe(0);
        expect(
          errorCode(
            await app.gql(REGISTER, {
              input: { endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth },
            }),
          ),
        ).toBe('UNAUTHENTICATED');
      },
    );

    it.skipIf(!available)(
      'an offline recipient gets exactly one push per message, VAPID-signed and decryptable',
      async () => {
        const { sender, others, id } = await room(2);
        const m1 = await send(sender, id, 'Lunch at noon?');
        const m2 = await send(sender, id, 'x'.repeat(500));
        for (const other of others) {
          await push.waitFor(() => push.received(other.endpoint).length >= 2, 10_000);
        }
        await sleep(PUSH_DELAY_MS + 500); // nothing more comes
        for (const other of others) {
          const got = pushesTo(other.endpoint);
          expect(got.map((p) => p.seq)).toEqual([m1.seq, m2.seq]);
          expect(got[0]).toMatchObject({
            type: 'message',
            conversationId: id,
            messageId: m1.id,
            senderName: 'Alice Sender',
            preview: 'Lunch at noon?',
          });
          // A preview is a preview: never the whole of a long message, and never a token.
          expect([...got[1]!.preview!].length).toBeLessThanOrEqual(120);
          const raw = push
            .received(other.endpoint)
            .map((p) => p.payload)
            .join('');
          expect(raw).not.toContain(sender.token);
          expect(push.received(other.endpoint)[0]!.vapidSub).toBe('mailto:ops@example.com');
        }
        // The sender is never pushed their own message.
        expect(push.received(sender.endpoint)).toEqual([]);
      },
    );

    it.skipIf(!available)(
      'a recipient whose connection received the message live gets no push',
      async () => {
        const { sender, others, id } = await room(1);
        const recipient = others[0]!;
        const client = connect(app.wsUrl, recipient.token);
        const live = subscribe<{ seq: number }>(
          client,
          `subscription($id: ID) { messageAdded(conversationId: $id) { seq } }`,
          { id },
          (d) => d.messageAdded as { seq: number },
        );
        // Live once a probe message arrives (probes sent before the subscription ran may be pushed).
        let probes = 0;
        const probing = setInterval(() => void send(sender, id, `probe ${++probes}`), 150);
        await live.until((items) => items.length > 0).finally(() => clearInterval(probing));
        const firstLive = live.items[0]!.seq;
        const real = await send(sender, id, 'seen live');
        await live.until((items) => items.some((m) => m.seq === real.seq));
        await sleep(PUSH_DELAY_MS * 2 + 500);
        // Every message from the first one received live on is unpushed (a probe sent before the
        // subscription ran was not delivered, and may have been).
        const pushed = pushesTo(recipient.endpoint).map((p) => p.seq);
        expect(pushed.filter((seq) => seq >= firstLive)).toEqual([]);
        expect(live.items.map((m) => m.seq)).toContain(real.seq);
        live.stop();
        await client.dispose();
      },
    );

    // On PostgreSQL only: what it checks (when a message counts as delivered) is the same code on
    // both backends, and its 250 sends take PGlite most of a minute when the suite runs.
    if (name === 'postgres')
      it.skipIf(!available)(
        'a connected recipient whose socket stopped taking messages is pushed those it did not get',
        async () => {
          const { sender, others, id } = await room(1);
          const recipient = others[0]!;
          // A raw graphql-ws client whose frames are large (the body selected 20 times), so its
          // socket backs up soon once it stops reading.
          const socket = new WebSocket(app.wsUrl, 'graphql-transport-ws');
          const frames: { type: string; payload?: { data?: { a0?: { seq: number } } } }[] = [];
          socket.on('message', (data) =>
            frames.push(JSON.parse(String(data)) as (typeof frames)[0]),
          );
          await new Promise((resolve) => socket.once('open', resolve));
          socket.send(
            JSON.stringify({
              type: 'connection_init',
              payload: { authorization: `Bearer ${recipient.token}` },
            }),
          );
          await waitUntil(async () => frames.some((f) => f.type === 'connection_ack'));
          const fields = Array.from({ length: 19 }, (_, i) => `b${i}: body`).join(' ');
          socket.send(
            JSON.stringify({
              id: '1',
              type: 'subscribe',
              payload: {
                query: `subscription($id: ID) { a0: messageAdded(conversationId: $id) { seq body ${fields} } }`,
                variables: { id },
              },
            }),
          );
          const seqsOnSocket = () =>
            frames.filter((f) => f.type === 'next').map((f) => f.payload!.data!.a0!.seq);
          let probes = 0;
          const probing = setInterval(() => void send(sender, id, `probe ${++probes}`), 150);
          await waitUntil(async () => seqsOnSocket().length > 0).finally(() =>
            clearInterval(probing),
          );
          await sleep(300); // a probe still on its way
          socket.pause(); // stops reading: the server's writes back up
          const body = 'y'.repeat(4_000);
          const sent: number[] = [];
          for (let i = 0; i < 250; i++) sent.push((await send(sender, id, body)).seq);
          const last = sent.at(-1)!;
          await push.waitFor(
            (all) =>
              all.some(
                (p) => p.endpoint === recipient.endpoint && (p.json as PushJson).seq === last,
              ),
            20_000,
          );
          await sleep(PUSH_DELAY_MS + 500);
          const sentSet = new Set(sent);
          const pushed = pushesTo(recipient.endpoint)
            .map((p) => p.seq)
            .filter((seq) => sentSet.has(seq))
            .sort((x, y) => x - y);
          // Once each, and only some of them.
          expect(new Set(pushed).size).toBe(pushed.length);
          expect(pushed.length).toBeGreaterThan(0);
          expect(pushed.length).toBeLessThan(sent.length);
          // The first went out at once; the last waited behind the others past the delay. (In
          // between, a message can be pushed and still reach the socket later, when the
          // socket's buffer drained a little after its push check.)
          expect(pushed).not.toContain(sent[0]);
          expect(pushed).toContain(last);
          // Reading again, the client gets every message: the push did not replace delivery.
          socket.resume();
          await waitUntil(async () => seqsOnSocket().includes(last), 20_000);
          expect(seqsOnSocket().filter((seq) => sentSet.has(seq))).toEqual(sent);
          socket.close();
        },
        60_000,
      );

    it.skipIf(!available)(
      'no push and no message.undelivered for a muted conversation or a blocked sender',
      async () => {
        const { sender, others, id } = await room(3);
        const [muted, blocker, plain] = others as [
          TestUser & { endpoint: string },
          TestUser & { endpoint: string },
          TestUser & { endpoint: string },
        ];
        ok(
          await app.gql(
            `mutation($id: ID!) { muteConversation(conversationId: $id) { id } }`,
            { id },
            muted.token,
          ),
        );
        ok(
          await app.gql(
            `mutation($u: ID!) { blockUser(userId: $u) }`,
            { u: sender.id },
            blocker.token,
          ),
        );
        const m = await send(sender, id, 'to three of you');
        await push.waitFor(() => push.received(plain.endpoint).length >= 1, 10_000);
        await hooks.waitFor(
          (all) =>
            all.some((d) => d.type === 'message.undelivered' && dataOf(d).conversationId === id),
          10_000,
        );
        await sleep(PUSH_DELAY_MS + 500);
        expect(pushesTo(plain.endpoint).map((p) => p.seq)).toEqual([m.seq]);
        expect(push.received(muted.endpoint)).toEqual([]);
        expect(push.received(blocker.endpoint)).toEqual([]);
        const undelivered = hooks
          .received()
          .filter((d) => d.type === 'message.undelivered' && dataOf(d).conversationId === id);
        expect(undelivered.map((d) => dataOf(d).recipientId)).toEqual([plain.id]);
      },
    );

    it.skipIf(!available)(
      'a mention pushes a muted member, once; a muted member not mentioned and a blocker mentioned get nothing',
      async () => {
        const { sender, others, id } = await room(3);
        const [mentioned, quiet, blocker] = others as [
          TestUser & { endpoint: string },
          TestUser & { endpoint: string },
          TestUser & { endpoint: string },
        ];
        for (const member of [mentioned, quiet]) {
          ok(
            await app.gql(
              `mutation($id: ID!) { muteConversation(conversationId: $id) { id } }`,
              { id },
              member.token,
            ),
          );
        }
        ok(
          await app.gql(
            `mutation($u: ID!) { blockUser(userId: $u) }`,
            { u: sender.id },
            blocker.token,
          ),
        );
        const m = ok(
          await app.gql<{ sendMessage: { id: string; seq: number } }>(
            SEND,
            {
              input: {
                conversationId: id,
                body: 'are you coming?',
                mentionUserIds: [mentioned.id, blocker.id],
              },
            },
            sender.token,
          ),
        ).sendMessage;
        const later = await send(sender, id, 'no mention here');
        await push.waitFor(() => push.received(mentioned.endpoint).length >= 1, 10_000);
        await hooks.waitFor(
          (all) =>
            all.some((d) => d.type === 'message.undelivered' && dataOf(d).conversationId === id),
          10_000,
        );
        await sleep(PUSH_DELAY_MS + 500);
        expect(pushesTo(mentioned.endpoint)).toEqual([
          expect.objectContaining({ seq: m.seq, messageId: m.id, mentioned: true }),
        ]);
        expect(later.seq).toBe(m.seq + 1);
        expect(push.received(quiet.endpoint)).toEqual([]);
        expect(push.received(blocker.endpoint)).toEqual([]);
        const undelivered = hooks
          .received()
          .filter((d) => d.type === 'message.undelivered' && dataOf(d).conversationId === id);
        expect(
          undelivered.map((d) => [dataOf(d).recipientId, dataOf(d).seq, dataOf(d).mentioned]),
        ).toEqual([[mentioned.id, m.seq, true]]);
      },
    );

    it.skipIf(!available)(
      'membership changes (system messages) push nobody and are no message.created; member.joined and member.left tell integrations',
      async () => {
        const { sender, others, id } = await room(1);
        const recipient = others[0]!;
        const [added, removed] = await Promise.all([
          withSubscription('Added later'),
          withSubscription('Removed later'),
        ]);
        ok(
          await app.gql(
            `mutation($id: ID!, $p: [String!]!) { addMembers(conversationId: $id, phones: $p) { id } }`,
            { id, p: [added.phone, removed.phone] },
            sender.token,
          ),
        );
        ok(
          await app.gql(
            `mutation($id: ID!, $u: ID!) { removeMember(conversationId: $id, userId: $u) { id } }`,
            { id, u: removed.id },
            sender.token,
          ),
        );
        const m = await send(sender, id, 'after the changes');
        await push.waitFor(() => push.received(recipient.endpoint).length >= 1, 10_000);
        await hooks.waitFor(
          (all) =>
            all.some(
              (d) =>
                d.type === 'message.created' &&
                dataOf(d).conversationId === id &&
                dataOf(d).seq === m.seq,
            ),
          10_000,
        );
        await sleep(PUSH_DELAY_MS + 500);
        // seq 1 and 2 are the system messages: only the person's message is pushed.
        expect(m.seq).toBe(3);
        expect(pushesTo(recipient.endpoint).map((p) => p.seq)).toEqual([m.seq]);
        expect(pushesTo(added.endpoint).map((p) => p.seq)).toEqual([m.seq]);
        expect(push.received(removed.endpoint)).toEqual([]);
        const mine = hooks.received().filter((d) => dataOf(d).conversationId === id);
        expect(mine.filter((d) => d.type === 'message.created').map((d) => dataOf(d).seq)).toEqual([
          m.seq,
        ]);
        expect(
          mine
            .filter((d) => d.type.startsWith('member.'))
            .map((d) => `${d.type} ${String(dataOf(d).userId)}`)
            .sort(),
        ).toEqual(
          [
            `member.joined ${sender.id}`,
            `member.joined ${recipient.id}`,
            `member.joined ${added.id}`,
            `member.joined ${removed.id}`,
            `member.left ${removed.id}`,
          ].sort(),
        );
      },
    );

    it.skipIf(!available)(
      'a message read on another device before the delay is not pushed',
      async () => {
        const { sender, others, id } = await room(1);
        const recipient = others[0]!;
        const m = await send(sender, id, 'read me quickly');
        ok(await app.gql(MARK_READ, { m: m.id }, recipient.token));
        const later = await send(sender, id, 'and this one is not read');
        await push.waitFor(() => push.received(recipient.endpoint).length >= 1, 10_000);
        await sleep(PUSH_DELAY_MS + 500);
        expect(pushesTo(recipient.endpoint).map((p) => p.seq)).toEqual([later.seq]);
      },
    );

    it.skipIf(!available)(
      'a push service answering 500 then 201 gets the push once; 410 removes the subscription',
      async () => {
        const { sender, others, id } = await room(2);
        const [flaky, gone] = others as [
          TestUser & { endpoint: string },
          TestUser & { endpoint: string },
        ];
        push.respondWith(flaky.endpoint, [500, 503]);
        push.expire(gone.endpoint);
        const m = await send(sender, id, 'try again');
        await push.waitFor(() => push.received(flaky.endpoint).length >= 1, 15_000);
        await sleep(1_000);
        expect(pushesTo(flaky.endpoint).map((p) => p.seq)).toEqual([m.seq]);
        expect(
          push.attempts.filter((a) => a.endpoint === flaky.endpoint).map((a) => a.status),
        ).toEqual([500, 503, 201]);
        // 410: the subscription is gone from the server, and later messages are not tried.
        await waitUntil(
          async () =>
            (await rows(sql`select 1 from push_subscriptions where endpoint = ${gone.endpoint}`))
              .length === 0,
        );
        const goneAttempts = push.attempts.filter((a) => a.endpoint === gone.endpoint).length;
        await send(sender, id, 'after the expiry');
        await push.waitFor(() => push.received(flaky.endpoint).length >= 2, 10_000);
        expect(push.attempts.filter((a) => a.endpoint === gone.endpoint).length).toBe(goneAttempts);
        expect(
          ok(
            await app.gql<{ unregisterPushSubscription: boolean }>(
              UNREGISTER,
              { e: gone.endpoint },
              gone.token,
            ),
          ).unregisterPushSubscription,
        ).toBe(false);
      },
    );

    it.skipIf(!available)(
      'webhooks: every event once, signed, in order per conversation, after the receiver was down',
      async () => {
        const own = flakyApp;
        const [sender, recipient] = await Promise.all([
          registerUser(own, 'Hooked sender'),
          registerUser(own, 'Hooked recipient'),
        ]);
        const id = ok(
          await own.gql<{ createGroupConversation: { id: string } }>(
            GROUP,
            { input: { title: 'Hooked', memberPhones: [recipient.phone] } },
            sender.token,
          ),
        ).createGroupConversation.id;
        await flakyHooks.down();
        const sent: number[] = [];
        for (let i = 0; i < 8; i++) {
          const user = i % 2 ? recipient : sender;
          const res = await own.gql<{ sendMessage: { seq: number } }>(
            SEND,
            { input: { conversationId: id, body: `m${i}` } },
            user.token,
          );
          sent.push(ok(res).sendMessage.seq);
        }
        await sleep(1_500); // every event has failed at least once by now
        expect(flakyHooks.received()).toEqual([]);
        await flakyHooks.up();
        const ofRoom = () => flakyHooks.received().filter((d) => dataOf(d).conversationId === id);
        await flakyHooks.waitFor(
          () => ofRoom().filter((d) => d.type === 'message.created').length >= 8,
          20_000,
        );
        await sleep(500);
        const created = ofRoom().filter((d) => d.type === 'message.created');
        expect(created.map((d) => dataOf(d).seq)).toEqual(sent);
        // Once each: no webhook-id twice (every event is a fresh id).
        const ids = ofRoom().map((d) => d.id);
        expect(new Set(ids).size).toBe(ids.length);
        // Membership events come in the order they happened, before the messages.
        expect(ofRoom().map((d) => d.type)).toEqual([
          'member.joined',
          'member.joined',
          ...sent.map(() => 'message.created'),
        ]);
        expect(flakyHooks.rejected).toEqual([]);
      },
    );

    it.skipIf(!available)(
      'webhooks: message.undelivered for a recipient the message did not reach',
      async () => {
        const { sender, others, id } = await room(1);
        const recipient = others[0]!;
        const m = await send(sender, id, 'where are you?');
        const undelivered = await hooks.waitFor(
          (all) =>
            all.some((d) => d.type === 'message.undelivered' && dataOf(d).conversationId === id),
          10_000,
        );
        const event = undelivered.find(
          (d) => d.type === 'message.undelivered' && dataOf(d).conversationId === id,
        )!;
        expect(event.data).toMatchObject({
          conversationId: id,
          messageId: m.id,
          seq: m.seq,
          recipientId: recipient.id,
          senderId: sender.id,
          senderName: 'Alice Sender',
          preview: 'where are you?',
        });
      },
    );

    it.skipIf(!available)(
      "takes back the jobs of an instance that stopped heartbeating (a crash): nothing stays locked for graphile-worker's 4 hours",
      async () => {
        // The instance says its job runner (what locks jobs) is alive.
        await waitUntil(
          async () =>
            (
              await rows(
                sql`select 1 from job_workers where worker_id like 'pool-%' and seen_at > now() - interval '15 seconds'`,
              )
            ).length > 0,
        );
        // A job held by a runner that crashed two minutes ago (its task is nobody's, and not due
        // for an hour: no one runs it meanwhile).
        const crashed = `pool-crashed-${name}`;
        const [job] = await rows<{ id: string }>(
          sql`select id::text from graphile_worker.add_job('parley_test_nobody', '{}'::json,
                run_at := now() + interval '1 hour')`,
        );
        await rows(
          sql`update graphile_worker._private_jobs set locked_by = ${crashed}, locked_at = now()
               where id = ${job!.id}::bigint returning id`,
        );
        await rows(
          sql`insert into job_workers (worker_id, seen_at)
              values (${crashed}, now() - interval '2 minutes') returning worker_id`,
        );
        // At its next heartbeat (every 10 s) the live instance unlocks it.
        await waitUntil(
          async () =>
            (
              await rows(
                sql`select 1 from graphile_worker._private_jobs where id = ${job!.id}::bigint and locked_by is null`,
              )
            ).length > 0,
          15_000,
        );
        expect(await rows(sql`select 1 from job_workers where worker_id = ${crashed}`)).toEqual([]);
        await rows(
          sql`delete from graphile_worker._private_jobs where id = ${job!.id}::bigint returning id`,
        );
      },
      30_000,
    );

    async function rows<T = Record<string, unknown>>(query: ReturnType<typeof sql>): Promise<T[]> {
      const result: unknown = await app.database.db.execute(query);
      return Array.isArray(result) ? (result as T[]) : (result as { rows: T[] }).rows;
    }

    async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while (!(await check())) {
        if (Date.now() > end) throw new Error('condition not met in time');
        await sleep(50);
      }
    }
  },
);
