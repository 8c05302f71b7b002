// "Postgres is the truth, Redis the doorbell." Events that must not be lost (new messages, edits,
// membership) are written to the outbox in the transaction that causes them, published right
// after the commit, and deleted once published. A row left behind (publish failed, process died
// between commit and publish) is published by whichever instance's drainer claims it first.
// Subscribers drop what they have already delivered, so publishing twice is harmless.
import type { Database, Executor } from '../db/client.js';
import { findLiveMessages, type LiveMessage, type MessageKey } from '../db/messages.js';
import { claimStaleOutbox, deleteOutbox, insertOutbox, type OutboxKey } from '../db/outbox.js';
import type { LiveMessageRow, MessageRow, PublicUser } from '../db/schema.js';
import type { EventBus } from '../realtime/bus.js';
import {
  topics,
  type ConversationChangedEvent,
  type ActivityEvent,
  type MembersEvent,
  type MembershipEvent,
  type MessageEvent,
  type MessageWire,
  type Topic,
  type TopicKind,
  type Topics,
  type UserUpdatedEvent,
} from '../realtime/events.js';

export interface LogSink {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The events that must not be lost: they go through the outbox. */
export type DurableEvent = MessageEvent | MembersEvent | ConversationChangedEvent | MembershipEvent;

/**
 * What the outbox keeps of an event: enough to rebuild it, not a copy of it. A message event is
 * rebuilt from its row (so the wire format is written once, by `messageEvent`). The send
 * function in SQL (drizzle/0007) writes the `messageAdded` record itself.
 */
export type OutboxRecord =
  // `system`: a system message (the outbox trigger of drizzle/0011 schedules no push for it).
  | { kind: 'messageAdded'; seq: number; system?: true }
  | { kind: 'messageUpdated'; seq: number }
  | { kind: 'members'; version: number; added?: string[]; removed?: string[] }
  | { kind: 'changed'; reason: ConversationChangedEvent['reason']; memberVersion?: number }
  | { kind: 'joined'; userId: string; fromSeq: number; fromChangeSeq: number }
  | { kind: 'left'; userId: string };

/** An event and the topic it travels on (the pair the bus is typed by). */
export type Routed = { [K in TopicKind]: { topic: Topic<K>; event: Topics[K] } }[TopicKind];

/** The topic of a durable event. */
export function route(conversationId: string, event: DurableEvent): Routed {
  switch (event.type) {
    case 'messageAdded':
    case 'messageUpdated':
      return { topic: topics.messages(conversationId), event };
    case 'members':
    case 'changed':
      return { topic: topics.members(conversationId), event };
    case 'joined':
    case 'left':
      return { topic: topics.user(event.userId), event };
  }
}

export function recordOf(event: DurableEvent): OutboxRecord {
  switch (event.type) {
    case 'messageAdded':
      return event.message.kind === 'SYSTEM'
        ? { kind: 'messageAdded', seq: event.message.seq, system: true }
        : { kind: 'messageAdded', seq: event.message.seq };
    case 'messageUpdated':
      return { kind: event.type, seq: event.message.seq };
    case 'members':
      return {
        kind: 'members',
        version: event.version,
        ...(event.added ? { added: event.added } : {}),
        ...(event.removed ? { removed: event.removed } : {}),
      };
    case 'changed':
      return event.memberVersion === undefined
        ? { kind: 'changed', reason: event.reason }
        : { kind: 'changed', reason: event.reason, memberVersion: event.memberVersion };
    case 'joined':
      return {
        kind: 'joined',
        userId: event.userId,
        fromSeq: event.fromSeq,
        fromChangeSeq: event.fromChangeSeq,
      };
    case 'left':
      return { kind: 'left', userId: event.userId };
  }
}

/** Rebuilds a durable event from its record (the message records need their rows). */
function rebuild(
  conversationId: string,
  record: OutboxRecord,
  messageOf: (key: MessageKey) => LiveMessage | undefined,
): DurableEvent | undefined {
  switch (record.kind) {
    case 'messageAdded':
    case 'messageUpdated': {
      const m = messageOf({ conversationId, seq: record.seq });
      return m && messageEvent(record.kind, m, m);
    }
    case 'members':
      return {
        type: 'members',
        conversationId,
        version: record.version,
        ...(record.added ? { added: record.added } : {}),
        ...(record.removed ? { removed: record.removed } : {}),
      };
    case 'changed':
      return record.memberVersion === undefined
        ? { type: 'changed', conversationId, reason: record.reason }
        : {
            type: 'changed',
            conversationId,
            reason: record.reason,
            memberVersion: record.memberVersion,
          };
    case 'joined':
      return {
        type: 'joined',
        conversationId,
        userId: record.userId,
        fromSeq: record.fromSeq,
        fromChangeSeq: record.fromChangeSeq,
      };
    case 'left':
      return { type: 'left', conversationId, userId: record.userId };
  }
}

/** Hands an event to the bus on its topic. */
export const publishRouted = (bus: EventBus, r: Routed): Promise<void> =>
  // Each member of the union pairs a topic with its own event type; TypeScript cannot follow
  // the correlation through the union, so it is asserted once, here.
  bus.publish(r.topic as Topic<'messages'>, r.event as Topics['messages']);

/** Events written to the outbox, kept as objects for the publish right after the commit. */
export interface Staged {
  readonly entries: readonly (OutboxKey & Routed)[];
}

export interface Events {
  readonly bus: EventBus;
  /** Writes events into the outbox inside `tx`; publish the result with `publish` after commit. */
  stage(tx: Executor, events: readonly StagedEvent[]): Promise<Staged>;
  /** Publishes staged events now; whatever fails stays in the outbox for the drainer. */
  publish(staged: Staged): void;
  /** Fire-and-forget events that may be lost (typing, read receipts). */
  publishEphemeral(topic: Topic<'activity'>, event: ActivityEvent): void;
  /** Fire-and-forget updates of the user's own (read positions, mutes) to all their devices. */
  publishEphemeral(topic: Topic<'user'>, event: UserUpdatedEvent): void;
  /** Publishes outbox rows older than the grace period; returns how many. */
  drainOnce(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

export interface StagedEvent {
  conversationId: string;
  event: DurableEvent;
}

/** The one wire form of a message event. */
export function messageEvent(
  type: MessageEvent['type'],
  m: MessageRow,
  live: { sender: PublicUser; memberVersion: number },
): MessageEvent {
  const message: MessageWire = {
    conversationId: m.conversationId,
    seq: m.seq,
    senderId: m.senderId,
    body: m.body,
    clientMessageId: m.clientMessageId,
    createdAt: new Date(m.createdAt).toISOString(),
    editedAt: m.editedAt ? new Date(m.editedAt).toISOString() : null,
    deletedAt: m.deletedAt ? new Date(m.deletedAt).toISOString() : null,
    attachmentCount: m.attachmentCount,
    changeSeq: m.changeSeq,
    ...(m.kind === 'SYSTEM' ? { kind: m.kind, systemEvent: m.systemEvent } : {}),
    ...(m.replyToSeq !== null ? { replyToSeq: m.replyToSeq } : {}),
    ...(m.replyCount > 0 ? { replyCount: m.replyCount } : {}),
    ...(m.mentionUserIds && m.mentionUserIds.length > 0
      ? { mentionUserIds: m.mentionUserIds }
      : {}),
    sender: { id: live.sender.id, phone: live.sender.phone, displayName: live.sender.displayName },
    memberVersion: live.memberVersion,
  };
  return { type, message };
}

// An event reaches every local subscriber as the same object: it is converted once and they
// all get the same (frozen) row, which lets graphql/shared-execution.ts execute it once for them.
const converted = new WeakMap<MessageWire, LiveMessageRow>();

export const fromWire = (m: MessageWire): LiveMessageRow => {
  let row = converted.get(m);
  if (row === undefined) {
    row = Object.freeze({
      ...m,
      // Absent in events written before attachments and change positions existed.
      attachmentCount: m.attachmentCount ?? 0,
      changeSeq: m.changeSeq ?? null,
      kind: m.kind ?? 'USER',
      systemEvent: m.systemEvent ?? null,
      // Absent when not a reply, not replied to, mentioning nobody (and before replies existed).
      replyToSeq: m.replyToSeq ?? null,
      replyCount: m.replyCount ?? 0,
      mentionUserIds: m.mentionUserIds ?? null,
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
        log.warn({ err }, 'could not delete published outbox rows');
      });
    return flushing;
  };

  const publishRow = async (row: Staged['entries'][number]): Promise<boolean> => {
    try {
      await publishRouted(bus, row);
      published.push({ conversationId: row.conversationId, id: row.id });
      return true;
    } catch (err) {
      log.warn({ err, topic: row.topic }, 'publish failed; left in the outbox');
      return false;
    }
  };

  const events: Events = {
    bus,
    async stage(tx, list) {
      const rows = list.map((s) => ({
        conversationId: s.conversationId,
        payload: JSON.stringify(recordOf(s.event)),
      }));
      const keys = await insertOutbox(tx, rows);
      return {
        entries: list.map((s, i) => ({ ...keys[i]!, ...route(s.conversationId, s.event) })),
      };
    },
    publish(staged) {
      void Promise.all(staged.entries.map(publishRow)).then(() => {
        if (published.length >= 500) void flushDeletes();
      });
    },
    publishEphemeral(
      topic: Topic<'activity'> | Topic<'user'>,
      event: ActivityEvent | UserUpdatedEvent,
    ) {
      // Each topic is paired with its own event type by the overloads above.
      bus.publish(topic as Topic<'activity'>, event as ActivityEvent).catch((err: unknown) => {
        log.warn({ err, topic }, 'ephemeral publish failed');
      });
    },
    async drainOnce() {
      await flushDeletes();
      return db.transaction(async (tx) => {
        const rows = await claimStaleOutbox(tx, opts.graceMs, 500);
        const records = rows.map((row) => ({
          row,
          record: row.topic === null ? (JSON.parse(row.payload) as OutboxRecord) : null,
        }));
        // The message rows of all message records, in one statement.
        const messageKeys = records.flatMap(({ row, record }) =>
          record && (record.kind === 'messageAdded' || record.kind === 'messageUpdated')
            ? [{ conversationId: row.conversationId, seq: record.seq }]
            : [],
        );
        const found = new Map(
          (await findLiveMessages(tx, messageKeys)).map((m) => [`${m.conversationId}:${m.seq}`, m]),
        );
        const messageOf = (k: MessageKey) => found.get(`${k.conversationId}:${k.seq}`);
        const done: OutboxKey[] = [];
        for (const { row, record } of records) {
          try {
            if (record === null) {
              // Written before drizzle/0007: the whole event, with its topic.
              await bus.publish(
                row.topic as Topic<'messages'>,
                JSON.parse(row.payload) as MessageEvent,
              );
            } else {
              const event = rebuild(row.conversationId, record, messageOf);
              // A message that is gone (its conversation was deleted) has nothing to announce.
              if (event) await publishRouted(bus, route(row.conversationId, event));
            }
            done.push({ conversationId: row.conversationId, id: row.id });
          } catch (err) {
            log.warn({ err }, 'outbox drain: publish failed; will retry');
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
          log.error({ err }, 'outbox drain failed');
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
