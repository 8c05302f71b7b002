// The kill-the-Redis-master scenario shared by the Redis Cluster and Redis Sentinel tests: two
// server processes, a subscriber on B that stays connected, sends to A every SEND_EVERY_MS, the
// master killed (SIGKILL) mid-traffic. What a user would notice is measured: acknowledged sends,
// acknowledged messages the open subscription never got, how long after the kill live delivery
// worked again, and whether a subscriber resuming from a cursor taken before the kill gets
// everything.
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { expect } from 'vitest';
import { gqlAt, okAt, type E2eUser, type ServerProcess } from './process.js';
import { connect, subscribe, type Received } from './ws.js';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq cursor } }`;
const ADDED = `subscription($id: ID, $after: String) { messageAdded(conversationId: $id, after: $after) {
  id seq cursor } }`;
const SEND_EVERY_MS = 150;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Sent {
  id: string;
  seq: number;
  cursor: string;
}
type Arrival = Sent & { at: number };

/**
 * A message sent on A reaches bob's `messageAdded` subscription on B. A subscription is live a
 * few ms after it is requested, so ann sends until one arrives (at most 20 tries).
 */
export async function expectDeliveredAcross(opts: {
  a: ServerProcess;
  b: ServerProcess;
  ann: E2eUser;
  bob: E2eUser;
  conversationId: string;
  clients: Client[];
}): Promise<void> {
  const { a, b, ann, bob, conversationId } = opts;
  const c = connect(b.url.replace(/^http/, 'ws'), bob.token);
  opts.clients.push(c);
  const received = subscribe<{ body: string }>(
    c,
    `subscription($id: ID) { messageAdded(conversationId: $id) { body } }`,
    { id: conversationId },
  );
  for (let i = 0; received.items.length === 0; i++) {
    expect(i, 'nothing arrived on B').toBeLessThan(20);
    await okAt(
      a,
      `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }`,
      { i: { conversationId, body: `hello ${i}` } },
      ann.token,
    );
    await received.until((items) => items.length > 0, 500).catch(() => undefined);
  }
  expect(received.items[0]!.body).toMatch(/^hello \d+$/);
}

export interface FailoverFigures {
  sent: number;
  acknowledged: number;
  /** Acknowledged, and never delivered to the subscription that stayed open. */
  lost: number;
  duplicates: number;
  /** Acknowledged, and missing from a subscription resumed from before the kill. */
  lostOnResume: number;
  /** From the kill until the servers named a replica as the master. */
  failoverMs: number;
  /** From the kill until a message sent after the failover arrived live (within a second). */
  liveAgainMs: number;
}

/**
 * Runs the scenario on `conversationId` (ann sends, bob listens) and asserts that nothing
 * acknowledged is lost, nothing arrives twice, order holds, and live delivery came back on its
 * own. `kill` kills the master; `failedOver` resolves once the topology shows a new master.
 */
export async function killMasterMidTraffic(opts: {
  label: string;
  a: ServerProcess;
  b: ServerProcess;
  ann: E2eUser;
  bob: E2eUser;
  conversationId: string;
  clients: Client[];
  kill: () => void | Promise<void>;
  failedOver: () => Promise<boolean>;
}): Promise<FailoverFigures> {
  const { a, b, ann, bob, conversationId, clients } = opts;
  const wsOf = (server: ServerProcess, user: E2eUser) => {
    const c = connect(server.url.replace(/^http/, 'ws'), user.token);
    clients.push(c);
    return c;
  };
  const first = (
    await okAt<{ sendMessage: Sent }>(
      a,
      SEND,
      { input: { conversationId, body: 'before the kill', clientMessageId: randomUUID() } },
      ann.token,
    )
  ).sendMessage;
  // From `first` on: everything after it, replayed or live, arrives here once, in order.
  const received: Received<Arrival> = subscribe(
    wsOf(b, bob),
    ADDED,
    { id: conversationId, after: first.cursor },
    (d) => ({ ...(d['messageAdded'] as Sent), at: Date.now() }),
  );
  const resumeFrom = first.cursor;
  await probeLive(received, a, ann, conversationId);

  const attempts: { at: number; sent: Sent | null }[] = [];
  let stop = false;
  const sending = (async () => {
    for (let i = 0; !stop; i++) {
      const attempt = { at: Date.now(), sent: null as Sent | null };
      attempts.push(attempt);
      // One try each: an error is a send the user sees fail (and would retry), not a loss.
      const res = await gqlAt<{ sendMessage: Sent }>(
        a.url,
        SEND,
        { input: { conversationId, body: `msg ${i}`, clientMessageId: randomUUID() } },
        ann.token,
      ).catch(() => null);
      attempt.sent = res?.data?.sendMessage ?? null;
      await sleep(Math.max(0, attempt.at + SEND_EVERY_MS - Date.now()));
    }
  })();

  try {
    await sleep(800);
    const killedAt = Date.now();
    await opts.kill();
    // A replica is master now (asked of the servers every 100 ms).
    let failedOverAt = NaN;
    while (Date.now() < killedAt + 20_000) {
      if (await opts.failedOver().catch(() => false)) {
        failedOverAt = Date.now();
        break;
      }
      await sleep(100);
    }
    expect(failedOverAt, `${opts.label}: no replica took over`).not.toBeNaN();
    // Live again: a message sent once the replica was master arrives within a second, on the
    // subscription that stayed open (nobody reconnected).
    let liveAgainAt = NaN;
    while (Date.now() < failedOverAt + 15_000) {
      const live = received.items.find((m) =>
        attempts.some((x) => x.at >= failedOverAt && x.sent?.id === m.id && m.at - x.at < 1_000),
      );
      if (live) {
        liveAgainAt = live.at;
        break;
      }
      await sleep(50);
    }
    expect(liveAgainAt, `${opts.label}: live delivery never came back`).not.toBeNaN();
    // A little more traffic with the new master, then stop.
    await sleep(1_000);
    stop = true;
    await sending;

    const acked = attempts.flatMap((x) => (x.sent ? [x.sent] : []));
    const lastSeq = Math.max(...acked.map((m) => m.seq));
    await received
      .until((items) => items.some((m) => m.seq >= lastSeq), 15_000)
      .catch(() => undefined);
    const seqs = received.items.map((m) => m.seq);
    const resumed = subscribe<Sent>(wsOf(a, bob), ADDED, { id: conversationId, after: resumeFrom });
    await resumed.until((items) => items.some((m) => m.seq >= lastSeq), 15_000);
    const resumedIds = new Set(resumed.items.map((m) => m.id));

    const figures: FailoverFigures = {
      sent: attempts.length,
      acknowledged: acked.length,
      lost: acked.filter((m) => !seqs.includes(m.seq)).length,
      duplicates: seqs.length - new Set(seqs).size,
      lostOnResume: acked.filter((m) => !resumedIds.has(m.id)).length,
      failoverMs: failedOverAt - killedAt,
      liveAgainMs: liveAgainAt - killedAt,
    };
    console.log(`[${opts.label}] ${JSON.stringify(figures)}`);
    // Sends do not wait for Redis: every one was acknowledged, failover or not.
    expect(figures.acknowledged).toBe(figures.sent);
    expect(figures.lost).toBe(0);
    expect(figures.lostOnResume).toBe(0);
    expect(figures.duplicates).toBe(0);
    // In order, with no gap, from the message after `first` on.
    expect(seqs).toEqual(seqs.map((_, i) => first.seq + 1 + i));
    // Traffic ran before, during and after the failover (how much depends on the machine).
    expect(acked.length).toBeGreaterThan(5);
    return figures;
  } finally {
    stop = true;
    await sending;
  }
}

/** Sends until one message arrives on the open subscription within a second: it is live. */
async function probeLive(
  received: Received<Arrival>,
  server: ServerProcess,
  sender: E2eUser,
  conversationId: string,
) {
  for (let attempt = 0; ; attempt++) {
    const { sendMessage } = await okAt<{ sendMessage: Sent }>(
      server,
      SEND,
      { input: { conversationId, body: `probe ${attempt}`, clientMessageId: randomUUID() } },
      sender.token,
    );
    try {
      await received.until((items) => items.some((m) => m.id === sendMessage.id), 1_000);
      return;
    } catch (err) {
      if (attempt >= 10) throw err;
    }
  }
}
