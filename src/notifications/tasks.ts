// The queue's tasks: the push check of a conversation, one push to one device, and a
// conversation's webhook events to one endpoint. Each is safe to run again after a crash.
import { Webhook } from 'standardwebhooks';
import webPush from 'web-push';
import type { Task } from 'graphile-worker';
import type { NotificationConfig, VapidKeys } from '../config.js';
import type { Database } from '../db/client.js';
import {
  advanceWebhookCursor,
  deleteGoneSubscription,
  findPushClaims,
  markPushesOutcome,
  markPushesSending,
  markPushesSent,
  pendingWebhookEvents,
  type PushClaim,
  type PushKey,
  runPushCheck,
  schedulePushRetry,
  scheduleWebhookRun,
  webhookCursor,
} from '../db/notifications.js';
import {
  PUSH_GIVE_UP_MS,
  WEBHOOK_GIVE_UP_MS,
  pushPayload,
  pushVerdict,
  retryDelayMs,
  webhookBody,
  webhookId,
} from '../domain/notifications.js';
import type { Logger } from '../logger.js';
import type { Poster } from './http-post.js';

/** A push waits at the push service this long for an offline device (seconds). */
const PUSH_TTL_SECONDS = 86_400;
/** A VAPID token's lifetime (RFC 8292 allows up to 24 h), and when a new one is made. */
const VAPID_TOKEN_SECONDS = 12 * 3_600;
const VAPID_RENEW_MS = 3_600_000;
/** Pushes one job has in flight at once. */
const PUSHES_AT_ONCE = 16;
/** Events posted per job run before it hands over to a fresh job. */
const WEBHOOK_BATCH = 100;

export interface TaskDeps {
  db: Database;
  config: NotificationConfig;
  poster: Poster;
  logger: Logger;
  /** Counts outcomes for /metrics. */
  count(what: 'push_sent' | 'push_failed' | 'push_gone' | 'webhook_sent' | 'webhook_failed'): void;
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function payloadOf(raw: unknown): Record<string, unknown> {
  return raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
}

export function createTasks(deps: TaskDeps): Record<string, Task> {
  const { db, config, poster, logger } = deps;
  const signer = config.webhookSecret ? new Webhook(config.webhookSecret) : undefined;

  const pushCheck: Task = async (raw) => {
    const { c } = payloadOf(raw);
    if (typeof c === 'string') await runPushCheck(db, c);
  };

  // A VAPID token (an ES256 JWT, half of a push's CPU to sign) is good for 12 hours per push
  // service: one per service is signed an hour, not one per push.
  const vapidTokens = new Map<string, { header: string; renewAt: number }>();
  function vapidAuthorization(vapid: VapidKeys, endpoint: string): string {
    const audience = new URL(endpoint).origin;
    const now = Date.now();
    const known = vapidTokens.get(audience);
    if (known && known.renewAt > now) return known.header;
    const { Authorization } = webPush.getVapidHeaders(
      audience,
      vapid.subject,
      vapid.publicKey,
      vapid.privateKey,
      'aes128gcm',
      Math.floor(now / 1000) + VAPID_TOKEN_SECONDS,
    );
    vapidTokens.set(audience, { header: Authorization, renewAt: now + VAPID_RENEW_MS });
    return Authorization;
  }

  /** Sends a conversation's open claims: each at most once, those not taken retried alone. */
  async function sendClaims(conversationId: string, claims: PushClaim[]): Promise<void> {
    const vapid: VapidKeys | undefined = config.vapid;
    const byOutcome = new Map<string, PushKey[]>();
    const end = (outcome: string, claim: PushKey) => {
      const list = byOutcome.get(outcome) ?? [];
      list.push(claim);
      byOutcome.set(outcome, list);
    };
    const due: PushClaim[] = [];
    for (const claim of claims) {
      if (claim.sendingAt) {
        // A run died while the push service was being called: it may have taken the push, and
        // a second one would break "at most one". Given up rather than risk a double.
        end('UNKNOWN', claim);
        logger.warn({ conversationId, seq: claim.seq }, 'push outcome unknown');
      } else if (!vapid || !claim.p256dh || !claim.auth) end('GONE', claim);
      else if (claim.lastReadSeq === null) end('LEFT', claim);
      else if (claim.lastReadSeq >= claim.seq) end('READ', claim);
      else if (claim.deleted) end('DELETED', claim);
      else due.push(claim);
    }
    const taken = await markPushesSending(db, conversationId, due);
    const sent: PushKey[] = [];
    const retries: PushClaim[] = [];
    await forEachLimited(
      due.filter((c) => taken.has(`${c.seq} ${c.endpoint}`)),
      PUSHES_AT_ONCE,
      async (claim) => {
        const request = webPush.generateRequestDetails(
          { endpoint: claim.endpoint, keys: { p256dh: claim.p256dh!, auth: claim.auth! } },
          JSON.stringify(pushPayload(claim, config.pushPreview)),
          {
            TTL: PUSH_TTL_SECONDS,
            urgency: 'high',
            headers: { Authorization: vapidAuthorization(vapid!, claim.endpoint) },
          },
        );
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.headers)) headers[name] = String(value);
        const result = await poster.post(request.endpoint, headers, request.body ?? '');
        const where = { conversationId, seq: claim.seq, status: result.status };
        switch (pushVerdict(result.status)) {
          case 'sent':
            deps.count('push_sent');
            sent.push(claim);
            return;
          case 'gone':
            deps.count('push_gone');
            await deleteGoneSubscription(db, claim.endpoint);
            end('GONE', claim);
            return;
          case 'failed':
            deps.count('push_failed');
            logger.warn(where, 'push refused by the push service');
            end('FAILED', claim);
            return;
          case 'retry':
            if (Date.now() - claim.createdAt.getTime() > PUSH_GIVE_UP_MS) {
              deps.count('push_failed');
              logger.warn({ ...where, error: result.error }, 'push given up after a day');
              end('FAILED', claim);
            } else retries.push(claim);
        }
      },
    );
    await markPushesSent(db, conversationId, sent);
    for (const [outcome, keys] of byOutcome) {
      await markPushesOutcome(db, conversationId, keys, outcome);
    }
    for (const claim of retries) {
      await schedulePushRetry(db, claim, retryDelayMs(config.pushRetryBaseMs, claim.attempts + 1));
    }
  }

  /** The pushes one push check claimed (messages from..to of a conversation). */
  const pushBatch: Task = async (raw) => {
    const { c, from, to } = payloadOf(raw);
    if (typeof c !== 'string' || typeof from !== 'number' || typeof to !== 'number') return;
    await sendClaims(c, await findPushClaims(db, c, { from, to }));
  };

  /** One push again, after the push service did not take it. */
  const push: Task = async (raw) => {
    const p = payloadOf(raw);
    if (typeof p.c !== 'string' || typeof p.s !== 'number' || typeof p.e !== 'string') return;
    await sendClaims(p.c, await findPushClaims(db, p.c, { from: p.s, to: p.s, endpoint: p.e }));
  };

  const webhook: Task = async (raw) => {
    const { c, e } = payloadOf(raw);
    if (typeof c !== 'string' || typeof e !== 'string' || !signer) return;
    if (!config.webhookUrls.includes(e)) return; // no longer configured
    const cursor = await webhookCursor(db, e, c);
    const events = await pendingWebhookEvents(db, c, cursor.lastId, WEBHOOK_BATCH);
    // The cursor moves once per run (or where a failure stops it): a run that dies midway posts
    // again what it had posted, with the same webhook-id (Standard Webhooks is at least once).
    let delivered = cursor.lastId;
    let failed = false;
    for (const event of events) {
      const body = JSON.stringify(webhookBody(c, event, config.pushPreview));
      const id = webhookId(c, event.id);
      const now = new Date();
      const result = await poster.post(
        e,
        {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': signer.sign(id, now, body),
        },
        body,
      );
      if (result.status !== undefined && result.status >= 200 && result.status < 300) {
        deps.count('webhook_sent');
        delivered = event.id;
        continue;
      }
      deps.count('webhook_failed');
      const failingFor = cursor.failingSince ? Date.now() - cursor.failingSince.getTime() : 0;
      if (failingFor > WEBHOOK_GIVE_UP_MS) {
        logger.error(
          { conversationId: c, eventId: id, type: event.type, status: result.status },
          'webhook event given up after three days of failures',
        );
        delivered = event.id;
        continue;
      }
      logger.warn(
        { conversationId: c, status: result.status, error: result.error },
        'webhook delivery failed; will retry',
      );
      failed = true;
      break;
    }
    if (delivered > cursor.lastId) await advanceWebhookCursor(db, e, c, delivered);
    if (failed) {
      const delay = retryDelayMs(config.webhookRetryBaseMs, cursor.failures + 1);
      await scheduleWebhookRun(db, e, c, delay, true);
    } else if (events.length === WEBHOOK_BATCH) {
      // More are waiting: continue in a fresh job (same key and queue, so still in order).
      await scheduleWebhookRun(db, e, c, 0, false);
    }
  };

  return {
    parley_push_check: pushCheck,
    parley_push_batch: pushBatch,
    parley_push: push,
    parley_webhook: webhook,
  };
}
