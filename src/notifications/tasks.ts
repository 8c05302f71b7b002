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
  findPushClaim,
  markPushOutcome,
  markPushSending,
  markPushSent,
  pendingWebhookEvents,
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

  const push: Task = async (raw) => {
    const p = payloadOf(raw);
    if (typeof p.c !== 'string' || typeof p.s !== 'number' || typeof p.e !== 'string') return;
    const vapid: VapidKeys | undefined = config.vapid;
    const key = { conversationId: p.c, seq: p.s, endpoint: p.e };
    const claim = await findPushClaim(db, key);
    if (!claim || claim.sentAt || claim.outcome) return;
    if (claim.sendingAt) {
      // A run died while the push service was being called: it may have taken the push, and a
      // second one would break "at most one". Given up rather than risk a double.
      await markPushOutcome(db, key, 'UNKNOWN');
      logger.warn({ conversationId: key.conversationId, seq: key.seq }, 'push outcome unknown');
      return;
    }
    const stale =
      !vapid || !claim.p256dh || !claim.auth
        ? 'GONE'
        : claim.lastReadSeq === null
          ? 'LEFT'
          : claim.lastReadSeq >= key.seq
            ? 'READ'
            : claim.deleted
              ? 'DELETED'
              : undefined;
    if (stale) return markPushOutcome(db, key, stale);
    if (!(await markPushSending(db, key))) return;

    const payload = pushPayload(
      { ...claim, conversationId: key.conversationId, seq: key.seq },
      config.pushPreview,
    );
    const request = webPush.generateRequestDetails(
      { endpoint: key.endpoint, keys: { p256dh: claim.p256dh!, auth: claim.auth! } },
      JSON.stringify(payload),
      {
        vapidDetails: vapid!,
        TTL: PUSH_TTL_SECONDS,
        urgency: 'high',
      },
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name] = String(value);
    const result = await poster.post(request.endpoint, headers, request.body ?? '');
    const verdict = pushVerdict(result.status);
    const where = { conversationId: key.conversationId, seq: key.seq, status: result.status };
    switch (verdict) {
      case 'sent':
        deps.count('push_sent');
        return markPushSent(db, key);
      case 'gone':
        deps.count('push_gone');
        await deleteGoneSubscription(db, key.endpoint);
        return markPushOutcome(db, key, 'GONE');
      case 'failed':
        deps.count('push_failed');
        logger.warn(where, 'push refused by the push service');
        return markPushOutcome(db, key, 'FAILED');
      case 'retry':
        if (Date.now() - claim.createdAt.getTime() > PUSH_GIVE_UP_MS) {
          deps.count('push_failed');
          logger.warn({ ...where, error: result.error }, 'push given up after a day of retries');
          return markPushOutcome(db, key, 'FAILED');
        }
        return schedulePushRetry(db, key, retryDelayMs(config.pushRetryBaseMs, claim.attempts + 1));
    }
  };

  const webhook: Task = async (raw) => {
    const { c, e } = payloadOf(raw);
    if (typeof c !== 'string' || typeof e !== 'string' || !signer) return;
    if (!config.webhookUrls.includes(e)) return; // no longer configured
    const cursor = await webhookCursor(db, e, c);
    const events = await pendingWebhookEvents(db, c, cursor.lastId, WEBHOOK_BATCH);
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
        await advanceWebhookCursor(db, e, c, event.id);
        continue;
      }
      deps.count('webhook_failed');
      const failingFor = cursor.failingSince ? Date.now() - cursor.failingSince.getTime() : 0;
      if (failingFor > WEBHOOK_GIVE_UP_MS) {
        logger.error(
          { conversationId: c, eventId: id, type: event.type, status: result.status },
          'webhook event given up after three days of failures',
        );
        await advanceWebhookCursor(db, e, c, event.id);
        continue;
      }
      logger.warn(
        { conversationId: c, status: result.status, error: result.error },
        'webhook delivery failed; will retry',
      );
      const delay = retryDelayMs(config.webhookRetryBaseMs, cursor.failures + 1);
      return scheduleWebhookRun(db, e, c, delay, true);
    }
    if (events.length === WEBHOOK_BATCH) {
      // More are waiting: continue in a fresh job (same key and queue, so still in order).
      await scheduleWebhookRun(db, e, c, 0, false);
    }
  };

  return { parley_push_check: pushCheck, parley_push: push, parley_webhook: webhook };
}
