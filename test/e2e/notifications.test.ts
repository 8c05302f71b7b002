// Pushes and webhooks across real server processes sharing PostgreSQL and Redis: a server killed
// (SIGKILL) between the commit and the push, a send retried on two instances at once, and a
// webhook receiver that is down while both instances take messages.
import webPush from 'web-push';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createGroupAt,
  okAt,
  registerAt,
  startServerProcess,
  type E2eUser,
  type ServerProcess,
} from '../support/process.js';
import { startPushService, type PushService } from '../support/push-service.js';
import { createDatabase } from '../support/services.js';
import {
  generateWebhookSecret,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';

const PUSH_DELAY_MS = 1_500;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;
const REGISTER = `mutation($input: PushSubscriptionInput!) { registerPushSubscription(input: $input) }`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const available = inject('postgresUrl') !== '' && inject('redisUrl') !== '';

describe.skipIf(!available)('notifications across server processes', () => {
  const vapid = webPush.generateVAPIDKeys();
  let push: PushService;
  let hooks: WebhookReceiver;
  let env: Record<string, string>;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    push = await startPushService({ vapidPublicKey: vapid.publicKey, tls: false });
    hooks = await startWebhookReceiver({ secret: generateWebhookSecret() });
    env = {
      NODE_ENV: 'production',
      DATABASE_URL: await createDatabase(inject('postgresUrl')),
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: `e2e-notify-${process.pid}:`,
      JWT_SECRET: 'notifications-e2e-secret-notifications-e2e',
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_SUBJECT: 'mailto:ops@example.com',
      PUSH_DELAY_MS: String(PUSH_DELAY_MS),
      PUSH_RETRY_BASE_MS: '200',
      WEBHOOK_URL: hooks.url,
      WEBHOOK_SECRET: hooks.secret,
      WEBHOOK_RETRY_BASE_MS: '250',
      ALLOW_PRIVATE_ENDPOINTS: 'true',
      LOG_LEVEL: 'warn',
    };
  }, 60_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    await push?.close();
    await hooks?.close();
  });

  async function start(): Promise<ServerProcess> {
    const server = await startServerProcess(env);
    servers.push(server);
    return server;
  }

  async function withSubscription(server: ServerProcess, name: string) {
    const user = await registerAt(server, name);
    const sub = push.createSubscription();
    await okAt(
      server,
      REGISTER,
      { input: { endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth } },
      user.token,
    );
    return { ...user, endpoint: sub.endpoint };
  }

  const send = (
    server: ServerProcess,
    user: E2eUser,
    conversationId: string,
    body: string,
    clientMessageId?: string,
  ) =>
    okAt<{ sendMessage: { id: string; seq: number } }>(
      server,
      SEND,
      { input: { conversationId, body, ...(clientMessageId ? { clientMessageId } : {}) } },
      user.token,
    ).then((d) => d.sendMessage);

  const seqsPushedTo = (endpoint: string) =>
    push.received(endpoint).map((p) => (p.json as { seq: number; conversationId: string }).seq);

  it('a server killed between the commit and the push: exactly one push once it is back', async () => {
    const first = await start();
    const sender = await registerAt(first, 'Sender');
    const recipient = await withSubscription(first, 'Recipient');
    const id = await createGroupAt(first, sender, [recipient]);
    const m = await send(first, sender, id, 'sent just before the crash');
    await first.stop('SIGKILL'); // acknowledged, committed, not yet pushed (the delay is running)
    await sleep(PUSH_DELAY_MS + 500);
    expect(push.received(recipient.endpoint)).toEqual([]);
    await start();
    await push.waitFor(() => push.received(recipient.endpoint).length >= 1, 15_000);
    await sleep(PUSH_DELAY_MS + 1_000);
    expect(seqsPushedTo(recipient.endpoint)).toEqual([m.seq]);
  }, 90_000);

  it('a send retried on two instances at once is one message and one push', async () => {
    const [a, b] = [servers.at(-1)!, await start()];
    const sender = await registerAt(a, 'Retrier');
    const recipient = await withSubscription(b, 'Recipient 2');
    const id = await createGroupAt(a, sender, [recipient]);
    const results = await Promise.all(
      [a, b, a, b].map((s) => send(s, sender, id, 'sent once, retried thrice', 'retry-1')),
    );
    expect(new Set(results.map((r) => r.seq)).size).toBe(1);
    await push.waitFor(() => push.received(recipient.endpoint).length >= 1, 15_000);
    await sleep(PUSH_DELAY_MS + 1_000);
    expect(seqsPushedTo(recipient.endpoint)).toEqual([results[0]!.seq]);
  }, 90_000);

  it('webhook receiver down (~6 s) while two instances take messages: each event once, in order, after it returns', async () => {
    const [a, b] = servers.slice(-2) as [ServerProcess, ServerProcess];
    const sender = await registerAt(a, 'Hooked sender');
    const other = await registerAt(b, 'Hooked other');
    const id = await createGroupAt(a, sender, [other]);
    await hooks.down();
    const seqs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const [server, user] = i % 2 ? [b, other] : [a, sender];
      seqs.push((await send(server, user, id, `while down ${i}`)).seq);
      await sleep(100);
    }
    await sleep(4_000); // down for about six seconds in all: both instances have failed and wait
    await hooks.up();
    const ofRoom = () =>
      hooks.received().filter((d) => (d.data as { conversationId?: string }).conversationId === id);
    await hooks
      .waitFor(
        () => ofRoom().filter((d) => d.type === 'message.created').length >= seqs.length,
        // Retries back off by doubling (WEBHOOK_RETRY_BASE_MS 250 ms): on a busy machine the
        // outage outlasts more attempts, and the next one may come half a minute after it.
        120_000,
      )
      .catch((err: unknown) => {
        // What the instances said (warnings and up) tells why a delivery did not come.
        for (const s of [a, b]) console.error(`server on port ${s.port}:\n${s.output()}`);
        throw err;
      });
    await sleep(1_000);
    const created = ofRoom().filter((d) => d.type === 'message.created');
    expect(created.map((d) => (d.data as { seq: number }).seq)).toEqual(seqs);
    const ids = ofRoom().map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(hooks.rejected).toEqual([]);
  }, 200_000);
});
