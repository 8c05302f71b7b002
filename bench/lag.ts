// Lag under send load: one conversation takes sendMessage as fast as the two instances accept it
// (32 autocannon connections, half on each, from two load processes), while one graphql-ws
// subscriber per instance (another load process) measures, for every message it receives,
// receive time − send time (carried in the body). Drain: from the last acknowledged send until
// every subscriber has every acknowledged message.
import { setTimeout as sleep } from 'node:timers/promises';
import { createGroupAt, okAt, registerAt, type ServerProcess } from '../test/support/process.js';
import { ask, child, startJob } from './harness.js';
import { bodyWithSentAt } from './sent-at.js';

const CONNECTIONS_PER_INSTANCE = 16;
/** How long the subscribers get to receive everything after the last acknowledged send. */
const DRAIN_LIMIT_MS = 20_000;
/** What a chat client asks for with each new message. */
const SELECTION = 'id seq body createdAt sender { id displayName }';

interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}
interface SubscriberLag extends Percentiles {
  received: number;
  /** Messages received per second, from its first to its last. */
  perSecond: number;
  lost: number;
  duplicated: number;
  /** When it had every acknowledged message; null if it never did. */
  allAt: number | null;
}
interface SendJob {
  requests: number;
  p50: number;
  p99: number;
  errors: number;
  acked: number[];
  startedAt: number;
  lastAckAt: number;
}

export async function lagUnderLoad(servers: [ServerProcess, ServerProcess], seconds: number) {
  const [a] = servers;
  const sender = await registerAt(a, 'lag sender');
  const members = await Promise.all(servers.map((_, i) => registerAt(a, `lag reader ${i}`)));
  const conversationId = await createGroupAt(a, sender, members);
  const load = child('load-ws.ts');
  await ask(load, null, (r) => r['ready'] === true);
  // Member i subscribes on instance i.
  await ask(
    load,
    {
      cmd: 'connect',
      mode: 'parley',
      wsUrls: servers.map((s) => s.url.replace('http', 'ws')),
      tokens: members.map((m) => m.token),
      conversationId,
      selection: SELECTION,
    },
    (r) => 'connected' in r,
  );
  const report = (acked: number[]) =>
    ask<{ clients: SubscriberLag[]; all: Percentiles }>(
      load,
      { cmd: 'lag', acked },
      (r) => 'clients' in r,
    );
  // Both subscriptions are live once both receive a warm-up message (one sent before a
  // subscription is live never reaches it, so another goes every half second).
  const SEND = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq } }';
  const warmUp = () =>
    okAt<{ sendMessage: { seq: number } }>(
      a,
      SEND,
      { i: { conversationId, body: bodyWithSentAt(Date.now()) } },
      sender.token,
    );
  let warmSeq = (await warmUp()).sendMessage.seq;
  for (let i = 1; (await report([warmSeq])).clients.some((c) => c.lost); i++) {
    if (i === 300) throw new Error('lag: the subscribers never received a warm-up message');
    if (i % 5 === 0) warmSeq = (await warmUp()).sendMessage.seq;
    await sleep(100);
  }
  await ask(load, { cmd: 'reset' }, (r) => r['reset'] === true);

  const senders = servers.map((server) =>
    startJob<SendJob>('load-http.ts', {
      url: server.url.replace('/graphql', ''),
      mode: 'lag',
      connections: CONNECTIONS_PER_INSTANCE,
      seconds,
      work: [{ token: sender.token, conversationId }],
      waitForGo: true,
    }),
  );
  // Both start once both are loaded, so neither instance runs alone while the other starts.
  await Promise.all(senders.map((s) => ask(s.process, null, (r) => r['ready'] === true)));
  for (const s of senders) s.process.send({ go: true });
  const jobs = await Promise.all(senders.map((s) => s.result));
  const acked = jobs.flatMap((j) => j.acked);
  if (!acked.length) throw new Error('lag: no send was acknowledged');
  const lastAckAt = Math.max(...jobs.map((j) => j.lastAckAt));
  let lag = await report(acked);
  while (lag.clients.some((c) => c.allAt === null) && Date.now() < lastAckAt + DRAIN_LIMIT_MS) {
    await sleep(100);
    lag = await report(acked);
  }
  load.send({ cmd: 'exit' });

  // A subscriber can hold a message before its sender has the answer: that drain counts as 0.
  const drainOf = (c: SubscriberLag) =>
    c.allAt === null ? null : Math.max(0, c.allAt - lastAckAt);
  const drains = lag.clients.map(drainOf);
  const firstSendAt = Math.min(...jobs.map((j) => j.startedAt));
  return {
    sendsPerSecond: acked.length / ((lastAckAt - firstSendAt) / 1000),
    p50: lag.all.p50,
    p99: lag.all.p99,
    max: lag.all.max,
    /** Null when a subscriber still missed an acknowledged message after DRAIN_LIMIT_MS. */
    drainMs: drains.includes(null) ? null : Math.max(...(drains as number[])),
    acknowledged: acked.length,
    lost: lag.clients.reduce((n, c) => n + c.lost, 0),
    duplicated: lag.clients.reduce((n, c) => n + c.duplicated, 0),
    sendErrors: jobs.reduce((n, j) => n + j.errors, 0),
    sendLatency: {
      p50: Math.max(...jobs.map((j) => j.p50)),
      p99: Math.max(...jobs.map((j) => j.p99)),
    },
    perInstance: lag.clients.map(({ allAt: _allAt, ...c }, i) => ({
      instance: 'AB'[i]!,
      ...c,
      drainMs: drains[i]!,
    })),
  };
}

export type LagUnderLoad = Awaited<ReturnType<typeof lagUnderLoad>>;

const LAG_P99_TARGET_MS = 100;
const DRAIN_TARGET_MS = 1_000;

export function printLag(lag: LagUnderLoad) {
  const ms = (v: number | null) => (v === null ? 'never' : `${v.toFixed(0)} ms`);
  const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log(
    `lag under send load: ${lag.acknowledged} sends acknowledged into one conversation, ${lag.sendsPerSecond.toFixed(0)}/s (send p50 ${ms(lag.sendLatency.p50)}, p99 ${ms(lag.sendLatency.p99)}, errors ${lag.sendErrors}); lost ${lag.lost}, duplicated ${lag.duplicated}`,
  );
  console.log('  subscriber       received   per s   lag p50   lag p99   lag max      drain');
  const row = (
    name: string,
    m: Percentiles,
    received: string,
    perSecond: string,
    drain: number | null,
  ) =>
    console.log(
      `  ${name.padEnd(15)} ${received.padStart(9)} ${perSecond.padStart(7)} ${ms(m.p50).padStart(9)} ${ms(m.p99).padStart(9)} ${ms(m.max).padStart(9)} ${ms(drain).padStart(10)}`,
    );
  for (const c of lag.perInstance)
    row(`on instance ${c.instance}`, c, String(c.received), c.perSecond.toFixed(0), c.drainMs);
  row('both', lag, '', '', lag.drainMs);
  console.log(
    `  targets: lag p99 ≤ ${LAG_P99_TARGET_MS} ms (${met(lag.p99 <= LAG_P99_TARGET_MS)}), drain ≤ ${DRAIN_TARGET_MS} ms (${met(lag.drainMs !== null && lag.drainMs <= DRAIN_TARGET_MS)})`,
  );
}
