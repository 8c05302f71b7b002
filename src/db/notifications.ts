// Push subscriptions, the notification settings the outbox trigger reads, and what the push and
// webhook jobs read and record (drizzle/0009_notifications.sql has the SQL side).
import { and, eq, sql } from 'drizzle-orm';
import { pgArray, queryRows, type Executor } from './client.js';
import { notificationSettings, pushSubscriptions } from './schema.js';

export interface PushSubscriptionRow {
  endpoint: string;
  p256dh: string;
  auth: string;
}

/** Registers an endpoint for a user; an endpoint registered before (by anyone) moves to them. */
export async function upsertPushSubscription(
  db: Executor,
  userId: string,
  sub: PushSubscriptionRow,
): Promise<void> {
  await db
    .insert(pushSubscriptions)
    .values({ ...sub, userId })
    .onConflictDoUpdate({
      target: pushSubscriptions.endpoint,
      set: { userId, p256dh: sub.p256dh, auth: sub.auth, createdAt: sql`now()` },
    });
}

export async function deletePushSubscription(
  db: Executor,
  userId: string,
  endpoint: string,
): Promise<boolean> {
  const rows = await db
    .delete(pushSubscriptions)
    .where(and(eq(pushSubscriptions.endpoint, endpoint), eq(pushSubscriptions.userId, userId)))
    .returning({ endpoint: pushSubscriptions.endpoint });
  return rows.length > 0;
}

/** A subscription the push service says is gone (404/410): removed whoever holds it. */
export async function deleteGoneSubscription(db: Executor, endpoint: string): Promise<void> {
  await db.delete(pushSubscriptions).where(eq(pushSubscriptions.endpoint, endpoint));
}

export async function countPushSubscriptions(db: Executor, userId: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from push_subscriptions where user_id = ${userId}`,
  );
  return row?.n ?? 0;
}

export async function hasPushSubscriptions(db: Executor): Promise<boolean> {
  const rows = await queryRows(db, sql`select 1 from push_subscriptions limit 1`);
  return rows.length > 0;
}

/** What this instance says at start; instances of one deployment say the same. */
export async function writeNotificationSettings(
  db: Executor,
  settings: {
    pushEnabled: boolean;
    pushDelayMs: number;
    pushPreview: boolean;
    webhookEndpoints: readonly string[];
  },
): Promise<void> {
  await db
    .insert(notificationSettings)
    .values({ id: 1, ...settings, webhookEndpoints: [...settings.webhookEndpoints] })
    .onConflictDoUpdate({
      target: notificationSettings.id,
      set: { ...settings, webhookEndpoints: [...settings.webhookEndpoints] },
    });
}

/** Runs the push check of a conversation (see parley_push_check); returns the pushes claimed. */
export async function runPushCheck(db: Executor, conversationId: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select parley_push_check(${conversationId}::uuid) as n`,
  );
  return Number(row?.n ?? 0);
}

/** A claimed push with all it needs to be sent, or to be found no longer due. */
export interface PushClaim {
  conversationId: string;
  seq: number;
  endpoint: string;
  userId: string;
  attempts: number;
  sendingAt: Date | null;
  p256dh: string | null;
  auth: string | null;
  /** Null when the recipient is no longer a member. */
  lastReadSeq: number | null;
  body: string | null;
  deleted: boolean;
  attachmentCount: number;
  senderName: string;
  createdAt: Date;
  /** The message mentions the recipient. */
  mentioned: boolean;
}

export type PushKey = Pick<PushClaim, 'conversationId' | 'seq' | 'endpoint'>;

/** The open claims (not sent, no outcome) of a conversation's messages from..to, or of one endpoint. */
export async function findPushClaims(
  db: Executor,
  conversationId: string,
  range: { from: number; to: number; endpoint?: string },
): Promise<PushClaim[]> {
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select d.seq, d.endpoint, d.user_id, d.attempts, d.sending_at, d.created_at,
               ps.p256dh, ps.auth, cm.last_read_seq, m.body, m.deleted_at is not null as deleted,
               m.attachment_count, u.display_name,
               coalesce(d.user_id = any(m.mention_user_ids), false) as mentioned
          from push_deliveries d
          join messages m on m.conversation_id = d.conversation_id and m.seq = d.seq
          join users u on u.id = m.sender_id
          left join push_subscriptions ps on ps.endpoint = d.endpoint and ps.user_id = d.user_id
          left join conversation_members cm
                 on cm.conversation_id = d.conversation_id and cm.user_id = d.user_id
         where d.conversation_id = ${conversationId}::uuid
           and d.seq between ${range.from}::int and ${range.to}::int
           and (${range.endpoint ?? null}::text is null or d.endpoint = ${range.endpoint ?? null}::text)
           and d.sent_at is null and d.outcome is null
         order by d.seq, d.endpoint`,
  );
  const date = (v: unknown) => (v == null ? null : new Date(v as string | Date));
  return rows.map((row) => ({
    conversationId,
    seq: Number(row.seq),
    endpoint: row.endpoint as string,
    userId: row.user_id as string,
    attempts: Number(row.attempts),
    sendingAt: date(row.sending_at),
    p256dh: (row.p256dh as string | null) ?? null,
    auth: (row.auth as string | null) ?? null,
    lastReadSeq: row.last_read_seq == null ? null : Number(row.last_read_seq),
    body: (row.body as string | null) ?? null,
    deleted: row.deleted === true,
    attachmentCount: Number(row.attachment_count),
    senderName: row.display_name as string,
    createdAt: date(row.created_at)!,
    mentioned: row.mentioned === true,
  }));
}

/** (seq, endpoint) pairs of one conversation, as two array parameters. */
const pairsOf = (keys: readonly PushKey[]) =>
  sql`unnest(${pgArray(
    keys.map((k) => k.seq),
    'int',
  )}, ${pgArray(
    keys.map((k) => k.endpoint),
    'text',
  )}) as k(seq, endpoint)`;

/**
 * Marks claims as being sent, before the push service is called: at most once. Returns those
 * this caller took (another run may have taken or ended some meanwhile).
 */
export async function markPushesSending(
  db: Executor,
  conversationId: string,
  keys: readonly PushKey[],
): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await queryRows<{ seq: number; endpoint: string }>(
    db,
    sql`update push_deliveries d set sending_at = now(), attempts = d.attempts + 1
          from ${pairsOf(keys)}
         where d.conversation_id = ${conversationId}::uuid and d.seq = k.seq and d.endpoint = k.endpoint
           and d.sending_at is null and d.sent_at is null and d.outcome is null
        returning d.seq, d.endpoint`,
  );
  return new Set(rows.map((r) => `${r.seq} ${r.endpoint}`));
}

export async function markPushesSent(
  db: Executor,
  conversationId: string,
  keys: readonly PushKey[],
): Promise<void> {
  if (keys.length === 0) return;
  await db.execute(sql`
    update push_deliveries d set sent_at = now()
      from ${pairsOf(keys)}
     where d.conversation_id = ${conversationId}::uuid and d.seq = k.seq and d.endpoint = k.endpoint`);
}

/** Ends claims without a push: READ, LEFT, DELETED, GONE, FAILED or UNKNOWN. */
export async function markPushesOutcome(
  db: Executor,
  conversationId: string,
  keys: readonly PushKey[],
  outcome: string,
): Promise<void> {
  if (keys.length === 0) return;
  await db.execute(sql`
    update push_deliveries d set outcome = ${outcome}::text
      from ${pairsOf(keys)}
     where d.conversation_id = ${conversationId}::uuid and d.seq = k.seq and d.endpoint = k.endpoint`);
}

const pushKey = (k: PushKey) =>
  sql`conversation_id = ${k.conversationId}::uuid and seq = ${k.seq}::int and endpoint = ${k.endpoint}::text`;

/** The push service did not take it: another try after `delayMs`, by a job of its own. */
export async function schedulePushRetry(
  db: Executor,
  key: PushKey,
  delayMs: number,
): Promise<void> {
  await db.execute(sql`
    with cleared as (
      update push_deliveries set sending_at = null where ${pushKey(key)} returning 1
    )
    select graphile_worker.add_job(
      'parley_push',
      json_build_object('c', ${key.conversationId}::uuid, 's', ${key.seq}::int, 'e', ${key.endpoint}::text),
      run_at := now() + ${delayMs}::int * interval '1 millisecond',
      job_key := 'push-retry:' || md5(${key.endpoint}::text) || ':' || ${key.conversationId}::text || ':' || ${key.seq}::text
    ) from cleared`);
}

export interface WebhookEventRow {
  id: number;
  type: string;
  seq: number | null;
  userId: string | null;
  createdAt: Date;
  senderId: string | null;
  senderName: string | null;
  body: string | null;
}

/** The endpoint's position in a conversation's events (created at 0 when new). */
export async function webhookCursor(
  db: Executor,
  endpoint: string,
  conversationId: string,
): Promise<{ lastId: number; failures: number; failingSince: Date | null }> {
  const [row] = await queryRows<Record<string, unknown>>(
    db,
    sql`with inserted as (
          insert into webhook_cursors (endpoint, conversation_id) values (${endpoint}::text, ${conversationId}::uuid)
          on conflict do nothing
          returning last_id, failures, failing_since
        )
        select last_id, failures, failing_since from inserted
        union all
        select last_id, failures, failing_since from webhook_cursors
         where endpoint = ${endpoint}::text and conversation_id = ${conversationId}::uuid`,
  );
  return {
    lastId: Number(row?.last_id ?? 0),
    failures: Number(row?.failures ?? 0),
    failingSince: row?.failing_since == null ? null : new Date(row.failing_since as string),
  };
}

export async function pendingWebhookEvents(
  db: Executor,
  conversationId: string,
  afterId: number,
  limit: number,
): Promise<WebhookEventRow[]> {
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select e.id::int8 as id, e.type, e.seq, e.user_id, e.created_at,
               m.sender_id, u.display_name as sender_name, m.body
          from webhook_events e
          left join messages m on m.conversation_id = e.conversation_id and m.seq = e.seq
          left join users u on u.id = m.sender_id
         where e.conversation_id = ${conversationId}::uuid and e.id > ${afterId}::int8
         order by e.id
         limit ${limit}::int`,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    type: r.type as string,
    seq: r.seq == null ? null : Number(r.seq),
    userId: (r.user_id as string | null) ?? null,
    createdAt: new Date(r.created_at as string),
    senderId: (r.sender_id as string | null) ?? null,
    senderName: (r.sender_name as string | null) ?? null,
    body: (r.body as string | null) ?? null,
  }));
}

export async function advanceWebhookCursor(
  db: Executor,
  endpoint: string,
  conversationId: string,
  lastId: number,
): Promise<void> {
  await db.execute(sql`
    update webhook_cursors set last_id = greatest(last_id, ${lastId}::int8), failures = 0, failing_since = null
     where endpoint = ${endpoint}::text and conversation_id = ${conversationId}::uuid`);
}

/**
 * Schedules the next run for an endpoint and conversation: after a failure (counted, with the
 * time failures began), or at once to go on with more events.
 */
export async function scheduleWebhookRun(
  db: Executor,
  endpoint: string,
  conversationId: string,
  delayMs: number,
  failed: boolean,
): Promise<void> {
  await db.execute(sql`
    with failed as (
      update webhook_cursors
         set failures = failures + 1, failing_since = coalesce(failing_since, now())
       where endpoint = ${endpoint}::text and conversation_id = ${conversationId}::uuid and ${failed}::boolean
      returning 1
    )
    select graphile_worker.add_job(
      'parley_webhook',
      json_build_object('c', ${conversationId}::uuid, 'e', ${endpoint}::text),
      queue_name := 'parley_webhook_' || (hashtext(${conversationId}::text) & 31),
      run_at := now() + ${delayMs}::int * interval '1 millisecond',
      job_key := 'webhook:' || md5(${endpoint}::text) || ':' || ${conversationId}::text,
      job_key_mode := 'replace'
    ) from (select count(*) from failed) f`);
}

/** Old notification bookkeeping: claims and events past any retry (three days). */
export async function deleteOldNotificationRows(db: Executor, olderThanMs: number): Promise<void> {
  const cutoff = sql`now() - make_interval(secs => ${olderThanMs / 1000})`;
  await db.execute(sql`delete from push_deliveries where created_at < ${cutoff}`);
  await db.execute(sql`delete from webhook_events where created_at < ${cutoff}`);
}

/** Heartbeat of this instance's queue workers; returns the ids of workers not seen for a while. */
export async function heartbeatJobWorkers(
  db: Executor,
  workerIds: readonly string[],
  deadAfterMs: number,
): Promise<string[]> {
  if (workerIds.length > 0) {
    await db.execute(sql`
      insert into job_workers (worker_id, seen_at)
      select unnest(${pgArray(workerIds, 'text')}), now()
      on conflict (worker_id) do update set seen_at = now()`);
  }
  const dead = await queryRows<{ worker_id: string }>(
    db,
    sql`delete from job_workers
         where seen_at < now() - make_interval(secs => ${deadAfterMs / 1000})
        returning worker_id`,
  );
  return dead.map((r) => r.worker_id);
}

export async function unlockJobsOf(db: Executor, workerIds: readonly string[]): Promise<void> {
  if (workerIds.length === 0) return;
  await db.execute(sql`select graphile_worker.force_unlock_workers(${pgArray(workerIds, 'text')})`);
}
