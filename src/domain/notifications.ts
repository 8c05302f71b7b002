// Push notifications and webhooks: who may register what, what a push and a webhook carry, and
// when a failed one is tried again. The sending itself is in src/notifications/.
import { ECDH } from 'node:crypto';
import { isIP } from 'node:net';
import type { Session } from './context.js';
import { DomainError, badInput, checkText } from './errors.js';
import { encodeMessageId } from './ids.js';
import {
  deletePushSubscription,
  upsertPushSubscription,
  countPushSubscriptions,
  type WebhookEventRow,
} from '../db/notifications.js';

/** Devices one user may register for pushes; the oldest beyond it are not removed, the new one is refused. */
export const MAX_PUSH_SUBSCRIPTIONS_PER_USER = 20;
const MAX_ENDPOINT_LENGTH = 2_048;
/** A push's preview of the message body, in characters. */
export const PREVIEW_LENGTH = 120;
/** Retries double from their base up to this. */
export const MAX_RETRY_DELAY_MS = 3_600_000;
/** A webhook endpoint that has failed this long loses the event it is stuck on (logged). */
export const WEBHOOK_GIVE_UP_MS = 3 * 86_400_000;
/** A push the push service would not take for this long is given up. */
export const PUSH_GIVE_UP_MS = 86_400_000;

export interface PushSubscriptionInput {
  endpoint: string;
  p256dh: string;
  auth: string;
}

export interface PushSettings {
  readonly vapidPublicKey: string | undefined;
  readonly allowPrivateEndpoints: boolean;
  /** Makes sure the job queue runs (it starts with the first subscription in embedded mode). */
  readonly enable: () => Promise<void>;
}

export const notConfigured = (message: string): DomainError =>
  new DomainError('NOT_CONFIGURED', message);

export function vapidPublicKey(settings: PushSettings): string {
  if (!settings.vapidPublicKey) {
    throw notConfigured(
      'Push notifications are not configured on this server (VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY).',
    );
  }
  return settings.vapidPublicKey;
}

function base64urlBytes(value: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(value)) return null;
  return Buffer.from(value.replace(/=+$/, ''), 'base64url');
}

/** Whether a host names this machine or a private network (refused as a target, see SSRF). */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local')) return true;
  const family = isIP(host);
  if (family === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      a >= 224
    );
  }
  if (family === 6) {
    return (
      host === '::' ||
      host === '::1' ||
      host.startsWith('fc') ||
      host.startsWith('fd') ||
      host.startsWith('fe80') ||
      host.startsWith('::ffff:')
    );
  }
  return false;
}

/** Checks a browser's push subscription; the keys must be what RFC 8291 encrypts for. */
export function checkPushSubscription(
  input: PushSubscriptionInput,
  settings: PushSettings,
): PushSubscriptionInput {
  // A NUL is text no database column takes; a lone surrogate no push service would answer.
  const endpoint = checkText(input.endpoint, 'endpoint').trim();
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw badInput('endpoint must be the URL of a push service.', 'endpoint');
  }
  if (endpoint.length > MAX_ENDPOINT_LENGTH) {
    throw badInput(`endpoint must be at most ${MAX_ENDPOINT_LENGTH} characters.`, 'endpoint');
  }
  const httpAllowed = settings.allowPrivateEndpoints && url.protocol === 'http:';
  if (url.protocol !== 'https:' && !httpAllowed) {
    throw badInput('endpoint must be an https URL.', 'endpoint');
  }
  if (url.username || url.password) {
    throw badInput('endpoint must not carry credentials.', 'endpoint');
  }
  if (!settings.allowPrivateEndpoints && isPrivateHost(url.hostname)) {
    throw badInput('endpoint must be a public push service, not a private address.', 'endpoint');
  }
  const key = base64urlBytes(input.p256dh.trim());
  if (!key || key.length !== 65 || key[0] !== 0x04 || !onP256(key)) {
    throw badInput('p256dh must be an uncompressed P-256 public key, base64url.', 'p256dh');
  }
  const auth = base64urlBytes(input.auth.trim());
  if (!auth || auth.length !== 16) {
    throw badInput('auth must be a 16-byte secret, base64url.', 'auth');
  }
  return { endpoint, p256dh: input.p256dh.trim(), auth: input.auth.trim() };
}

export async function registerPushSubscription(
  session: Session,
  input: PushSubscriptionInput,
): Promise<boolean> {
  const { deps } = session;
  vapidPublicKey(deps.push);
  const sub = checkPushSubscription(input, deps.push);
  if ((await countPushSubscriptions(deps.db, session.userId)) >= MAX_PUSH_SUBSCRIPTIONS_PER_USER) {
    throw new DomainError(
      'RATE_LIMITED',
      `At most ${MAX_PUSH_SUBSCRIPTIONS_PER_USER} devices can receive pushes: unregister one first.`,
    );
  }
  await deps.push.enable();
  await upsertPushSubscription(deps.db, session.userId, sub);
  return true;
}

export function unregisterPushSubscription(session: Session, endpoint: string): Promise<boolean> {
  const text = checkText(endpoint, 'endpoint').trim();
  return deletePushSubscription(session.deps.db, session.userId, text);
}

/** What a push carries: enough to show a notification and open the conversation, no tokens. */
export interface PushPayload {
  type: 'message';
  conversationId: string;
  messageId: string;
  seq: number;
  senderName: string;
  /** The start of the body; absent when previews are off or the message has no text. */
  preview?: string;
  attachments?: number;
  /** The message mentions the recipient (it is pushed even where they muted the conversation). */
  mentioned?: true;
}

export function preview(body: string | null): string | undefined {
  if (!body) return undefined;
  const chars = [...body];
  return chars.length <= PREVIEW_LENGTH ? body : chars.slice(0, PREVIEW_LENGTH - 1).join('') + '…';
}

export function pushPayload(
  message: {
    conversationId: string;
    seq: number;
    senderName: string;
    body: string | null;
    attachmentCount: number;
    /** Whether the message mentions the recipient. */
    mentioned?: boolean;
  },
  withPreview: boolean,
): PushPayload {
  const text = withPreview ? preview(message.body) : undefined;
  return {
    type: 'message',
    conversationId: message.conversationId,
    messageId: encodeMessageId(message),
    seq: message.seq,
    senderName: message.senderName,
    ...(text !== undefined ? { preview: text } : {}),
    ...(message.attachmentCount > 0 ? { attachments: message.attachmentCount } : {}),
    ...(message.mentioned ? { mentioned: true as const } : {}),
  };
}

/** What to do after the push service answered (RFC 8030 §5, §7). */
export type PushVerdict = 'sent' | 'gone' | 'retry' | 'failed';

export function pushVerdict(status: number | undefined): PushVerdict {
  if (status === undefined) return 'retry'; // no answer: network error or timeout
  if (status >= 200 && status < 300) return 'sent';
  if (status === 404 || status === 410) return 'gone';
  if (status === 429 || status >= 500) return 'retry';
  return 'failed';
}

/** The n-th retry's delay (n ≥ 1): the base, doubled each time, at most an hour. */
export function retryDelayMs(baseMs: number, failures: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
}

/** The JSON body of a webhook (Standard Webhooks: `{ type, timestamp, data }`). */
export interface WebhookBody {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export function webhookBody(
  conversationId: string,
  event: Omit<WebhookEventRow, 'id'>,
  withPreview: boolean,
): WebhookBody {
  const data: Record<string, unknown> = { conversationId };
  if (event.seq !== null) {
    data.messageId = encodeMessageId({ conversationId, seq: event.seq });
    data.seq = event.seq;
    if (event.senderId) data.senderId = event.senderId;
  }
  if (event.type === 'message.undelivered') {
    data.recipientId = event.userId;
    if (event.senderName) data.senderName = event.senderName;
    const text = withPreview ? preview(event.body) : undefined;
    if (text !== undefined) data.preview = text;
    if (event.mentioned) data.mentioned = true;
  } else if (event.userId) {
    data.userId = event.userId;
  }
  return { type: event.type, timestamp: event.createdAt.toISOString(), data };
}

/** The idempotency id of a webhook event (the `webhook-id` header): the same on every retry. */
export function webhookId(conversationId: string, eventId: number): string {
  return `msg_${conversationId.replace(/-/g, '')}_${eventId}`;
}

/** Whether an uncompressed key is a point of the P-256 curve (a push service would refuse it). */
function onP256(key: Uint8Array): boolean {
  try {
    ECDH.convertKey(key, 'prime256v1');
    return true;
  } catch {
    return false;
  }
}
