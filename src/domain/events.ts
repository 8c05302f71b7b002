// "Postgres is the truth, Redis the doorbell." Events that must not be lost (new messages, edits,
// membership) are written to the outbox in the transaction that causes them, published right
// after the commit, and deleted once published. A row left behind (publish failed, process died
// between commit and publish) is published by whichever instance's drainer claims it first.
// Subscribers drop what they have already delivered, so publishing twice is harmless.
import type { Database, Executor } from '../db/client.js';
import { claimStaleOutbox, deleteOutbox, insertOutbox, type OutboxKey } from '../db/outbox.js';
import type { LiveMessageRow, MessageRow, PublicUser } from '../db/schema.js';
import type { EventBus } from '../realtime/bus.js';
import {
  conversationTopic,
  membersTopic,
  userTopic,
  type BusEvent,
  type ConversationEvent,
  type MessageWire,
  type UserEvent,
} from '../realtime/events.js';

export interface LogSink {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Events written to the outbox, kept as objects for the publish right after the commit. */
export interface Staged {
  readonly entries: readonly (OutboxKey & { topic: string; event: BusEvent })[];
}

export interface Events {
  readonly bus: EventBus;
  /** Writes events into the outbox inside `tx`; publish the result with `publish` after commit. */
  stage(tx: Executor, events: readonly StagedEvent[]): Promise<Staged>;
  /** Publishes staged events now; whatever fails stays in the outbox for the drainer. */
  publish(staged: Staged): void;
  /** Fire-and-forget events that may be lost (typing, read receipts). */
  publishEphemeral(topic: string, event: BusEvent): void;
  /** Publishes outbox rows older than the grace period; returns how many. */
  drainOnce(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

export type StagedEvent =
  | { conversationId: string; event: ConversationEvent }
  | { conversationId: string; event: UserEvent };

export function topicOf(staged: StagedEvent): string {
  const e = staged.event;
  if (e.type === 'joined' || e.type === 'left') return userTopic(e.userId);
  if (e.type === 'members') return membersTopic(staged.conversationId);
  return conversationTopic(staged.conversationId);
}

export const toWire = (
  m: MessageRow,
  live?: { sender: PublicUser; memberVersion: number },
): MessageWire => ({
  conversationId: m.conversationId,
  seq: m.seq,
  senderId: m.senderId,
  body: m.body,
  clientMessageId: m.clientMessageId,
  createdAt: new Date(m.createdAt).toISOString(),
  editedAt: m.editedAt ? new Date(m.editedAt).toISOString() : null,
  deletedAt: m.deletedAt ? new Date(m.deletedAt).toISOString() : null,
  attachmentCount: m.attachmentCount,
  ...(live ? { sender: live.sender, memberVersion: live.memberVersion } : {}),
});

// An event reaches every local subscriber as the same object: it is converted once and they
// all get the same (frozen) row, which lets graphql/shared-execution.ts execute it once for them.
const converted = new WeakMap<MessageWire, LiveMessageRow>();

export const fromWire = (m: MessageWire): LiveMessageRow => {
  let row = converted.get(m);
  if (row === undefined) {
    row = Object.freeze({
      ...m,
      // Absent in events written before attachments existed.
      attachmentCount: m.attachmentCount ?? 0,
      createdAt: new Date(m.createdAt),
      editedAt: m.editedAt ? new Date(m.editedAt) : null,
      deletedAt: m.deletedAt ? new Date(m.deletedAt) : null,
    });
    converted.set(m, row);
  }
  return row;
};

export interface EventsOptions {
  /** Rows younger than this are left to the instance that wrote them. */
  graceMs: number;
  drainIntervalMs: number;
}

export function createEvents(
  db: Database,
  bus: EventBus,
  log: LogSink,
  opts: EventsOptions = { graceMs: 2_000, drainIntervalMs: 1_000 },
): Events {
  // Published rows are deleted in batches rather than one statement per event.
  let published: OutboxKey[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  const flushDeletes = () => {
    if (published.length === 0) return flushing;
    const batch = published;
    published = [];
    flushing = flushing
      .then(() => deleteOutbox(db, batch))
      .catch((err: unknown) => {
        // The rows stay; the drainer will publish them again and subscribers drop duplicates.
        log.warn({ err: String(err) }, 'could not delete published outbox rows');
      });
    return flushing;
  };

  const publishRow = async (row: Staged['entries'][number]): Promise<boolean> => {
    try {
      await bus.publish(row.topic, row.event);
      published.push({ conversationId: row.conversationId, id: row.id });
      return true;
    } catch (err) {
      log.warn({ err: String(err), topic: row.topic }, 'publish failed; left in the outbox');
      return false;
    }
  };

  const events: Events = {
    bus,
    async stage(tx, list) {
      const rows = list.map((s) => ({
        conversationId: s.conversationId,
        topic: topicOf(s),
        payload: JSON.stringify(s.event),
      }));
      const keys = await insertOutbox(tx, rows);
      return {
        entries: list.map((s, i) => ({ ...keys[i]!, topic: rows[i]!.topic, event: s.event })),
      };
    },
    publish(staged) {
      void Promise.all(staged.entries.map(publishRow)).then(() => {
        if (published.length >= 500) void flushDeletes();
      });
    },
    publishEphemeral(topic, event) {
      bus.publish(topic, event).catch((err: unknown) => {
        log.warn({ err: String(err), topic }, 'ephemeral publish failed');
      });
    },
    async drainOnce() {
      await flushDeletes();
      return db.transaction(async (tx) => {
        const rows = await claimStaleOutbox(tx, opts.graceMs, 500);
        const done: OutboxKey[] = [];
        for (const row of rows) {
          try {
            await bus.publish(row.topic, JSON.parse(row.payload) as BusEvent);
            done.push({ conversationId: row.conversationId, id: row.id });
          } catch (err) {
            log.warn({ err: String(err) }, 'outbox drain: publish failed; will retry');
            break;
          }
        }
        await deleteOutbox(tx, done);
        return done.length;
      });
    },
    start() {
      const tick = async () => {
        try {
          await events.drainOnce();
        } catch (err) {
          log.error({ err: String(err) }, 'outbox drain failed');
        }
        timer = setTimeout(() => void tick(), opts.drainIntervalMs);
        timer.unref();
      };
      timer = setTimeout(() => void tick(), opts.drainIntervalMs);
      timer.unref();
    },
    async stop() {
      clearTimeout(timer);
      timer = undefined;
      await flushDeletes();
    },
  };
  return events;
}
