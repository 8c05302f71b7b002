// The job queue that runs pushes and webhooks: graphile-worker over the same database, in every
// instance (in process, over PGlite, in embedded mode). Work is enqueued by SQL in the
// transaction that writes the event (drizzle/0009_notifications.sql): nothing is held in memory,
// so a crash between the commit and the push loses nothing; the next worker to run takes it.
//
// Why graphile-worker rather than pg-boss: it has a public SQL API (graphile_worker.add_job) that
// our send functions and triggers call inside the send transaction, with job keys (one pending
// push check per conversation) and named queues (webhooks of a conversation one at a time, in
// order), and LISTEN/NOTIFY to start a job within milliseconds of its time. pg-boss enqueues
// from JavaScript only (an extra round trip per send), and its current versions need Node 22.
import { EventEmitter } from 'node:events';
import {
  Logger as WorkerLogger,
  run,
  runMigrations,
  type Runner,
  type WorkerEvents,
} from 'graphile-worker';
import type { Pool } from 'pg';
import type { NotificationConfig } from '../config.js';
import type { Database } from '../db/client.js';
import {
  deleteOldNotificationRows,
  heartbeatJobWorkers,
  unlockJobsOf,
  writeNotificationSettings,
} from '../db/notifications.js';
import { WEBHOOK_GIVE_UP_MS } from '../domain/notifications.js';
import type { Logger } from '../logger.js';
import { createPoster } from './http-post.js';
import { createTasks, type TaskDeps } from './tasks.js';

/** How often an instance says its workers are alive; one silent for 6 × this is taken as dead. */
const HEARTBEAT_MS = 10_000;
/** How long after its runner stopped by itself a new one starts (and again while it cannot). */
const RESTART_MS = 5_000;
/** How long a push service or webhook endpoint has to answer. */
const POST_TIMEOUT_MS = 10_000;

export interface NotificationQueue {
  /** Starts the queue if it is not running (the first push subscription does, in embedded mode). */
  ensureStarted(): Promise<void>;
  stop(): Promise<void>;
}

export function createNotificationQueue(opts: {
  db: Database;
  /** A pg.Pool, or what stands in for one over PGlite. */
  openPool: () => Pool;
  config: NotificationConfig;
  logger: Logger;
  count: TaskDeps['count'];
}): NotificationQueue {
  const { db, config, logger } = opts;
  const log = logger.child({ component: 'jobs' });
  let starting: Promise<void> | undefined;
  let stopping = false;
  let runner: Runner | undefined;
  let pool: Pool | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  const poster = createPoster({
    allowPrivate: config.allowPrivateEndpoints,
    timeoutMs: POST_TIMEOUT_MS,
  });

  // graphile-worker's messages, without its job rows (payloads name push endpoints) and with
  // errors through our sanitizing serializer (database errors carry query parameters).
  const workerLogger = new WorkerLogger(() => (level, message, meta) => {
    const job = meta?.job as
      { id?: unknown; task_identifier?: unknown; attempts?: unknown } | undefined;
    const fields = {
      ...(job ? { jobId: job.id, task: job.task_identifier, attempts: job.attempts } : {}),
      ...(meta?.error ? { err: meta.error } : {}),
    };
    const text = message.replace(/ with error '[\s\S]*$/, ''); // the error is in err
    if (level === 'error') log.error(fields, text);
    else if (level === 'warning') log.warn(fields, text);
    else log.debug(fields, text);
  });

  async function start(): Promise<void> {
    pool = opts.openPool();
    pool.on('error', (err) => log.warn({ err }, 'job queue connection failed'));
    pool.on('connect', (client) => {
      client.on('error', (err) => log.warn({ err }, 'job queue connection failed'));
    });
    await runMigrations({ pgPool: pool, logger: workerLogger });
    await writeNotificationSettings(db, {
      pushEnabled: config.vapid !== undefined,
      pushDelayMs: config.pushDelayMs,
      pushPreview: config.pushPreview,
      webhookEndpoints: config.webhookUrls,
    });
    // What locks jobs (graphile-worker 0.17: the worker pool's id, not its workers'), for the
    // heartbeat below. Listened to before run() is called, which creates the pool (and says so)
    // before it returns.
    const workerIds = new Set<string>();
    const events = new EventEmitter() as WorkerEvents;
    events.on('pool:create', ({ workerPool }) => workerIds.add(workerPool.id));
    events.on('pool:release', ({ workerPool }) => workerIds.delete(workerPool.id));
    const taskList = createTasks({ db, config, poster, logger: log, count: opts.count });
    const startRunner = async (): Promise<void> => {
      const started = await run({
        pgPool: pool,
        events,
        logger: workerLogger,
        concurrency: config.jobConcurrency,
        noHandleSignals: true,
        parsedCronItems: [], // no crontab (else it looks for ./crontab)
        pollInterval: 1_000,
        taskList,
      });
      runner = started;
      // graphile-worker shuts its pool down when it cannot record a job's end (the database went
      // away mid-job) and rejects the runner's promise: nobody else would notice, so an outage
      // would end the instance's jobs for good (or, unhandled, the process). The job is left
      // locked and taken over after a minute (the heartbeat below); start a new runner.
      started.promise.then(
        () => undefined,
        (err: unknown) => {
          if (stopping) return;
          log.error({ err }, 'job runner stopped by itself; starting a new one');
          const again = setTimeout(() => {
            if (stopping) return;
            startRunner().catch((e: unknown) => {
              log.error({ err: e }, 'job runner could not start again');
              again.refresh();
            });
          }, RESTART_MS);
          again.unref();
        },
      );
    };
    await startRunner();
    let beats = 0;
    const beat = async () => {
      // A crashed instance's jobs stay locked (graphile-worker waits 4 hours): unlock them once
      // its workers have been silent for a minute, so their pushes go out from another instance.
      const dead = await heartbeatJobWorkers(db, [...workerIds], 6 * HEARTBEAT_MS);
      await unlockJobsOf(db, dead);
      if (dead.length > 0) log.warn({ workers: dead.length }, 'unlocked jobs of dead workers');
      if (beats++ % 360 === 0) await deleteOldNotificationRows(db, WEBHOOK_GIVE_UP_MS + 86_400_000);
    };
    heartbeat = setInterval(
      () => void beat().catch((err: unknown) => log.warn({ err }, 'job heartbeat failed')),
      HEARTBEAT_MS,
    );
    heartbeat.unref();
    await beat().catch((err: unknown) => log.warn({ err }, 'job heartbeat failed'));
  }

  return {
    ensureStarted() {
      if (stopping) return Promise.resolve();
      starting ??= start().catch((err: unknown) => {
        starting = undefined;
        throw err;
      });
      return starting;
    },
    async stop() {
      stopping = true;
      if (heartbeat) clearInterval(heartbeat);
      await starting?.catch(() => undefined);
      await runner?.stop().catch((err: unknown) => log.warn({ err }, 'job runner stop failed'));
      await pool?.end().catch(() => undefined);
      poster.close();
    },
  };
}
