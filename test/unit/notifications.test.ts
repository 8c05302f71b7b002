import { createECDH, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkPushSubscription,
  isPrivateHost,
  preview,
  pushPayload,
  pushVerdict,
  retryDelayMs,
  webhookBody,
} from '../../src/domain/notifications.js';
import { DomainError } from '../../src/domain/errors.js';

const ecdh = createECDH('prime256v1');
ecdh.generateKeys();
const valid = {
  endpoint: 'https://fcm.googleapis.com/fcm/send/abc123',
  p256dh: ecdh.getPublicKey('base64url'),
  auth: randomBytes(16).toString('base64url'),
};
const strict = { vapidPublicKey: 'k', allowPrivateEndpoints: false, enable: async () => {} };

function field(input: typeof valid, settings = strict): string | undefined {
  try {
    checkPushSubscription(input, settings);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return (err as DomainError).extensions['field'] as string;
  }
}

describe('push subscriptions', () => {
  it('takes a browser subscription as it comes', () => {
    expect(checkPushSubscription({ ...valid, endpoint: ` ${valid.endpoint} ` }, strict)).toEqual(
      valid,
    );
  });

  it('refuses what no push service would take, naming the field', () => {
    expect(field({ ...valid, endpoint: 'http://push.example.com/x' })).toBe('endpoint');
    expect(field({ ...valid, endpoint: 'https://user:pw@push.example.com/x' })).toBe('endpoint');
    expect(field({ ...valid, endpoint: `https://push.example.com/${'x'.repeat(2_100)}` })).toBe(
      'endpoint',
    );
    expect(field({ ...valid, p256dh: randomBytes(65).toString('base64url') })).toBe('p256dh');
    // The right length and prefix, but not a point of the curve.
    const offCurve = Buffer.concat([Buffer.from([0x04]), randomBytes(64)]);
    expect(field({ ...valid, p256dh: offCurve.toString('base64url') })).toBe('p256dh');
    expect(field({ ...valid, p256dh: 'not base64!' })).toBe('p256dh');
    expect(field({ ...valid, auth: randomBytes(12).toString('base64url') })).toBe('auth');
  });

  it('refuses endpoints on this machine or a private network unless allowed', () => {
    for (const host of [
      '127.0.0.1',
      'localhost',
      '10.1.2.3',
      '192.168.0.9',
      '[::1]',
      '169.254.169.254',
    ]) {
      expect(field({ ...valid, endpoint: `https://${host}/push/1` })).toBe('endpoint');
    }
    const open = { ...strict, allowPrivateEndpoints: true };
    expect(field({ ...valid, endpoint: 'http://127.0.0.1:9/push/1' }, open)).toBeUndefined();
  });

  it('tells private addresses from public ones', () => {
    expect(isPrivateHost('172.16.0.1')).toBe(true);
    expect(isPrivateHost('172.32.0.1')).toBe(false);
    expect(isPrivateHost('100.64.0.1')).toBe(true);
    expect(isPrivateHost('8.8.8.8')).toBe(false);
    expect(isPrivateHost('fd00::1')).toBe(true);
    expect(isPrivateHost('2001:4860::8888')).toBe(false);
    expect(isPrivateHost('push.services.mozilla.com')).toBe(false);
  });
});

describe('what a push and a webhook carry', () => {
  it('a push: who and where, the start of the text, never more', () => {
    const payload = pushPayload(
      {
        conversationId: '00000000-0000-4000-8000-000000000001',
        seq: 7,
        senderName: 'Ann',
        body: 'é'.repeat(300),
        attachmentCount: 2,
      },
      true,
    );
    expect(payload).toMatchObject({ type: 'message', seq: 7, senderName: 'Ann', attachments: 2 });
    expect([...payload.preview!]).toHaveLength(120);
    expect(payload.preview!.endsWith('…')).toBe(true);
    expect(
      pushPayload({ ...payload, body: 'secret plans', attachmentCount: 0 }, false),
    ).not.toHaveProperty('preview');
    expect(preview(null)).toBeUndefined();
    // A preview never splits a character made of two UTF-16 units.
    expect(preview('😀'.repeat(200))!.isWellFormed()).toBe(true);
  });

  it('a webhook: its type, time and the ids it is about', () => {
    const at = new Date('2026-11-30T10:00:00.000Z');
    const c = '00000000-0000-4000-8000-000000000002';
    expect(
      webhookBody(
        c,
        {
          type: 'member.left',
          seq: null,
          userId: 'u1',
          createdAt: at,
          senderId: null,
          senderName: null,
          body: null,
          mentioned: false,
        },
        true,
      ),
    ).toEqual({
      type: 'member.left',
      timestamp: '2026-11-30T10:00:00.000Z',
      data: { conversationId: c, userId: 'u1' },
    });
    const undelivered = webhookBody(
      c,
      {
        type: 'message.undelivered',
        seq: 3,
        userId: 'u2',
        createdAt: at,
        senderId: 'u3',
        senderName: 'Bo',
        body: 'hi',
        mentioned: false,
      },
      false,
    );
    expect(undelivered.data).toMatchObject({ seq: 3, recipientId: 'u2', senderId: 'u3' });
    expect(undelivered.data).not.toHaveProperty('preview');
    expect(undelivered.data).not.toHaveProperty('mentioned');
  });
});

describe('retries', () => {
  it('retries what may pass later, drops what never will', () => {
    expect(pushVerdict(201)).toBe('sent');
    expect(pushVerdict(410)).toBe('gone');
    expect(pushVerdict(404)).toBe('gone');
    expect(pushVerdict(429)).toBe('retry');
    expect(pushVerdict(503)).toBe('retry');
    expect(pushVerdict(undefined)).toBe('retry');
    expect(pushVerdict(413)).toBe('failed');
  });

  it('doubles the delay from its base, up to an hour', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(5_000, n))).toEqual([
      5_000, 10_000, 20_000, 40_000,
    ]);
    expect(retryDelayMs(5_000, 40)).toBe(3_600_000);
  });
});
