// Subscribers (their own process): plain ws clients, speaking graphql-transport-ws to Parley or
// reading the bare
// broadcast server. Talks to the bench over IPC: connect, reset, report, lag, range.
import WebSocket from 'ws';
import { sentAtOfBody } from './sent-at.js';

type Command =
  | {
      cmd: 'connect';
      mode: 'parley';
      wsUrls: string[];
      tokens: string[];
      conversationId: string;
      /** The fields of messageAdded to ask for. */
      selection?: string;
    }
  | { cmd: 'connect'; mode: 'bare'; url: string; count: number }
  | { cmd: 'reset' }
  | { cmd: 'report'; sent: Record<string, number> }
  /** Just how many deliveries so far: cheap enough to poll every few milliseconds. */
  | { cmd: 'count' }
  | { cmd: 'lag'; acked: number[] }
  /**
   * Continuity: every client must have had each seq of (from, to] exactly once, in seq order
   * (a room's every message, system messages included, while it was subscribed).
   */
  | { cmd: 'range'; from: number; to: number }
  | { cmd: 'exit' };

interface Arrival {
  /** How many times this seq arrived (more than once is a duplicate). */
  count: number;
  /** When it first arrived. */
  at: number;
  /** First arrival − the send time in its body (see sent-at.ts), when the body has one. */
  lag: number | undefined;
}

/** Per client: seq → its arrivals. */
let received: Map<number, Arrival>[] = [];
/** Per client: the seq it received last, to count arrivals out of seq order. */
let lastSeqOf: number[] = [];
let reordered = 0;
let deliveries = 0;
let lastAt = 0;
const sockets: WebSocket[] = [];

function record(client: number, seq: number, sentAt?: number) {
  const now = Date.now();
  const seen = received[client]!;
  const arrival = seen.get(seq);
  if (arrival) arrival.count++;
  else seen.set(seq, { count: 1, at: now, lag: sentAt === undefined ? undefined : now - sentAt });
  if (seq < lastSeqOf[client]!) reordered++;
  lastSeqOf[client] = seq;
  deliveries++;
  lastAt = now;
}

function percentiles(values: number[]) {
  values.sort((a, b) => a - b);
  const pct = (p: number) =>
    values[Math.min(values.length - 1, Math.floor(p * values.length))] ?? 0;
  return { p50: pct(0.5), p99: pct(0.99), max: values.at(-1) ?? 0 };
}

/**
 * One client's view of the messages the senders had acknowledged: which never arrived, which
 * arrived twice, the lag of everything it received, how fast it received, and when it had all of
 * them (null while any is missing).
 */
function lagOf(seen: Map<number, Arrival>, acked: number[]) {
  let lost = 0;
  let allAt = 0;
  for (const seq of acked) {
    const arrival = seen.get(seq);
    if (arrival) allAt = Math.max(allAt, arrival.at);
    else lost++;
  }
  let duplicated = 0;
  let firstAt = Infinity;
  let lastAt = 0;
  const lags: number[] = [];
  for (const { count, at, lag } of seen.values()) {
    duplicated += count - 1;
    firstAt = Math.min(firstAt, at);
    lastAt = Math.max(lastAt, at);
    if (lag !== undefined) lags.push(lag);
  }
  // Against the send rate, this tells a subscriber that falls behind from one that keeps pace.
  const perSecond = seen.size > 1 ? seen.size / ((lastAt - firstAt) / 1000) : 0;
  return { received: seen.size, perSecond, lost, duplicated, allAt: lost ? null : allAt, lags };
}

const send = (message: unknown) => process.send!(message);

process.on('message', async (raw) => {
  const message = raw as Command;
  if (message.cmd === 'connect' && message.mode === 'parley') {
    received = message.tokens.map(() => new Map());
    lastSeqOf = message.tokens.map(() => 0);
    const selection = message.selection ?? 'id seq body createdAt status sender { id displayName }';
    const query = `subscription($id: ID) { messageAdded(conversationId: $id) { ${selection} } }`;
    // Plain ws sockets speaking graphql-transport-ws, parsing each frame once: the same receive
    // path as the bare broadcast's clients, so the ratio compares the servers, not the clients
    // (graphql-ws's client costs the subscriber process more per frame than the servers spend).
    await Promise.all(
      message.tokens.map(
        (token, i) =>
          new Promise<void>((resolve) => {
            const socket = new WebSocket(
              message.wsUrls[i % message.wsUrls.length]!,
              'graphql-transport-ws',
            );
            socket.on('open', () =>
              socket.send(
                JSON.stringify({
                  type: 'connection_init',
                  payload: { authorization: `Bearer ${token}` },
                }),
              ),
            );
            socket.on('message', (data) => {
              const frame = JSON.parse(String(data)) as {
                type: string;
                payload?: { data?: { messageAdded: { seq: number; body?: string | null } } };
              };
              if (frame.type === 'next' && frame.payload?.data) {
                const m = frame.payload.data.messageAdded;
                record(i, m.seq, sentAtOfBody(m.body));
              } else if (frame.type === 'connection_ack') {
                socket.send(
                  JSON.stringify({
                    id: '1',
                    type: 'subscribe',
                    payload: { query, variables: { id: message.conversationId } },
                  }),
                );
                resolve();
              } else if (frame.type === 'ping') {
                socket.send(JSON.stringify({ type: 'pong' }));
              }
            });
            socket.on('error', () => resolve());
            sockets.push(socket);
          }),
      ),
    );
    send({ connected: message.tokens.length });
  } else if (message.cmd === 'connect' && message.mode === 'bare') {
    received = Array.from({ length: message.count }, () => new Map());
    lastSeqOf = received.map(() => 0);
    await Promise.all(
      received.map(
        (_, i) =>
          new Promise<void>((resolve) => {
            const socket = new WebSocket(message.url);
            socket.on('message', (data) =>
              record(i, (JSON.parse(String(data)) as { seq: number }).seq),
            );
            socket.on('open', () => resolve());
            sockets.push(socket);
          }),
      ),
    );
    send({ connected: sockets.length });
  } else if (message.cmd === 'reset') {
    received = received.map(() => new Map());
    reordered = 0;
    deliveries = 0;
    send({ reset: true });
  } else if (message.cmd === 'count') {
    send({ deliveries, lastAt });
  } else if (message.cmd === 'report') {
    const sentAt = new Map(Object.entries(message.sent).map(([seq, t]) => [Number(seq), t]));
    let lost = 0;
    let duplicated = 0;
    const latencies: number[] = [];
    for (const seen of received) {
      for (const seq of sentAt.keys()) if (!seen.has(seq)) lost++;
      for (const [seq, { count, at }] of seen) {
        duplicated += count - 1;
        const t0 = sentAt.get(seq);
        if (t0 !== undefined) latencies.push(at - t0);
      }
    }
    const { p50, p99 } = percentiles(latencies);
    send({ deliveries, lost, duplicated, p50, p99, lastAt });
  } else if (message.cmd === 'lag') {
    const perClient = received.map((seen) => lagOf(seen, message.acked));
    send({
      clients: perClient.map(({ lags, ...rest }) => ({ ...rest, ...percentiles(lags) })),
      all: percentiles(perClient.flatMap((c) => c.lags)),
    });
  } else if (message.cmd === 'range') {
    let lost = 0;
    let duplicated = 0;
    let inRange = 0;
    let complete = 0;
    for (const seen of received) {
      let missing = 0;
      for (let seq = message.from + 1; seq <= message.to; seq++) {
        const arrival = seen.get(seq);
        if (!arrival) missing++;
        else {
          inRange += arrival.count;
          duplicated += arrival.count - 1;
        }
      }
      lost += missing;
      if (missing === 0) complete++;
    }
    send({ range: true, clients: received.length, complete, lost, duplicated, inRange, reordered });
  } else if (message.cmd === 'exit') {
    for (const s of sockets) s.terminate();
    process.exit(0);
  }
});
// The bench gone (killed, or crashed), this process goes too, not left holding sockets.
process.on('disconnect', () => process.exit(0));
send({ ready: true });
