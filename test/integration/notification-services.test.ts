/**
 * Smoke test of the notification test harnesses themselves: the local Web Push service takes
 * what the web-push library sends (VAPID checked, payload decrypted) and the webhook receiver
 * verifies Standard Webhooks signatures — real protocols on real sockets.
 */
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import webPush from 'web-push';
import { startPushService, type PushService } from '../support/push-service.js';
import {
  generateWebhookSecret,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';

describe('local Web Push service', () => {
  const vapid = webPush.generateVAPIDKeys();
  const vapidDetails = { subject: 'mailto:ops@parley.test', ...vapid };
  let service: PushService;

  beforeAll(async () => {
    service = await startPushService({ vapidPublicKey: vapid.publicKey });
  });
  afterAll(() => service.close());

  it('takes a push from web-push and decrypts it', async () => {
    const subscription = service.createSubscription();
    expect(Buffer.from(subscription.p256dh, 'base64url')).toHaveLength(65);
    expect(Buffer.from(subscription.auth, 'base64url')).toHaveLength(16);
    const payload = JSON.stringify({ title: 'New message', body: 'héllo 👋' });

    const reply = await webPush.sendNotification(subscription, payload, {
      vapidDetails,
      TTL: 60,
      topic: 'conv1',
      urgency: 'high',
      agent: service.agent,
    });

    expect(reply.statusCode).toBe(201);
    expect(reply.headers.location).toMatch(/\/message\//);
    const [push] = service.received(subscription.endpoint);
    expect(push).toMatchObject({
      endpoint: subscription.endpoint,
      payload,
      json: { title: 'New message', body: 'héllo 👋' },
      ttl: 60,
      urgency: 'high',
      topic: 'conv1',
      vapidSub: 'mailto:ops@parley.test',
    });
    await expect(
      service.waitFor((pushes) => pushes.some((p) => p.endpoint === subscription.endpoint), 1000),
    ).resolves.toHaveLength(1);
  });

  it('refuses a push signed with another VAPID key: 401', async () => {
    const subscription = service.createSubscription();
    const other = webPush.generateVAPIDKeys();

    const error = await webPush
      .sendNotification(subscription, 'x', {
        vapidDetails: { subject: 'mailto:ops@parley.test', ...other },
        agent: service.agent,
      })
      .catch((err: unknown) => err);

    expect(error).toBeInstanceOf(webPush.WebPushError);
    expect((error as webPush.WebPushError).statusCode).toBe(401);
    expect(service.rejected.filter((r) => r.endpoint === subscription.endpoint)).toEqual([
      expect.objectContaining({ status: 401, reason: expect.stringMatching(/vapid k/) }),
    ]);
    expect(service.received(subscription.endpoint)).toEqual([]);
  });

  it('answers scripted statuses first: a 500, then the retry is received', async () => {
    const subscription = service.createSubscription();
    service.respondWith(subscription.endpoint, [500]);
    const send = () =>
      webPush.sendNotification(subscription, 'retry me', { vapidDetails, agent: service.agent });

    await expect(send()).rejects.toMatchObject({ statusCode: 500 });
    expect(service.received(subscription.endpoint)).toEqual([]);
    await expect(send()).resolves.toMatchObject({ statusCode: 201 });

    expect(service.attempts.filter((a) => a.endpoint === subscription.endpoint)).toEqual([
      expect.objectContaining({ status: 500 }),
      expect.objectContaining({ status: 201 }),
    ]);
    expect(service.received(subscription.endpoint).map((p) => p.payload)).toEqual(['retry me']);
  });

  it('answers 410 for an expired subscription and 404 for an unknown one', async () => {
    const subscription = service.createSubscription();
    service.expire(subscription.endpoint);
    const unknown = { ...subscription, endpoint: `${service.origin}/push/nope` };

    await expect(
      webPush.sendNotification(subscription, 'gone', { vapidDetails, agent: service.agent }),
    ).rejects.toMatchObject({ statusCode: 410 });
    await expect(
      webPush.sendNotification(unknown, 'who', { vapidDetails, agent: service.agent }),
    ).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('local webhook receiver', () => {
  const secret = generateWebhookSecret();
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secret });
  });
  afterAll(() => receiver.close());

  function post(body: string, signWith = secret, id = `msg_${randomUUID()}`): Promise<Response> {
    const date = new Date();
    return fetch(receiver.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(date.getTime() / 1000)),
        'webhook-signature': new Webhook(signWith).sign(id, date, body),
      },
      body,
    });
  }

  const event = (n: number): string =>
    JSON.stringify({
      type: 'message.created',
      timestamp: new Date().toISOString(),
      data: { n },
    });

  it('records a verified delivery', async () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const res = await post(event(1), secret, 'msg_1');

    expect(res.status).toBe(204);
    expect(receiver.received()).toEqual([
      expect.objectContaining({ id: 'msg_1', type: 'message.created', data: { n: 1 } }),
    ]);
  });

  it('refuses a wrong signature with 401', async () => {
    const before = receiver.rejected.length;
    const res = await post(event(2), generateWebhookSecret());

    expect(res.status).toBe(401);
    expect(receiver.rejected).toHaveLength(before + 1);
    expect(receiver.received().map((d) => d.data)).not.toContainEqual({ n: 2 });
  });

  it('answers scripted statuses, then goes down and comes back on the same URL', async () => {
    receiver.respondWith([503]);
    expect((await post(event(3))).status).toBe(503);
    expect((await post(event(3), secret, 'msg_3')).status).toBe(204);

    const url = receiver.url;
    await receiver.down();
    const refused = await post(event(4)).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(TypeError); // fetch failed
    expect((refused as TypeError & { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');

    await receiver.up();
    expect(receiver.url).toBe(url);
    expect((await post(event(5), secret, 'msg_5')).status).toBe(204);
    const all = await receiver.waitFor((d) => d.some((x) => x.id === 'msg_5'), 1000);
    expect(all.map((d) => d.id)).toEqual(['msg_1', 'msg_3', 'msg_5']);
  });
});
