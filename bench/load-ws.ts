// Subscribers (their own process): graphql-ws clients on Parley, or plain ws clients on the bare
// broadcast server. Talks to the bench over IPC: connect, reset, report.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

type Command =
  | { cmd: 'connect'; mode: 'parley'; wsUrls: string[]; tokens: string[]; conversationId: string }
  | { cmd: 'connect'; mode: 'bare'; url: string; count: number }
  | { cmd: 'reset' }
  | { cmd: 'report'; sent: Record<string, number> }
  | { cmd: 'exit' };

/** Per client: seq → how many times it arrived, and when it first did. */
let received: Map<number, number>[] = [];
let firstAt = new Map<number, number[]>();
let deliveries = 0;
let lastAt = 0;
const clients: Client[] = [];
const sockets: WebSocket[] = [];

function record(client: number, seq: number) {
  const now = Date.now();
  const seen = received[client]!;
  seen.set(seq, (seen.get(seq) ?? 0) + 1);
  if (seen.get(seq) === 1) {
    let times = firstAt.get(seq);
    if (!times) firstAt.set(seq, (times = []));
    times.push(now);
  }
  deliveries++;
  lastAt = now;
}

const send = (message: unknown) => process.send!(message);

process.on('message', async (raw) => {
  const message = raw as Command;
  if (message.cmd === 'connect' && message.mode === 'parley') {
    received = message.tokens.map(() => new Map());
    const query = `subscription($id: ID) { messageAdded(conversationId: $id) { id seq body createdAt status sender { id displayName } } }`;
    message.tokens.forEach((token, i) => {
      const client = createClient({
        url: message.wsUrls[i % message.wsUrls.length]!,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
        lazy: false,
      });
      clients.push(client);
      client.subscribe<{ messageAdded: { seq: number } }>(
        { query, variables: { id: message.conversationId } },
        {
          next: (r) => r.data && record(i, r.data.messageAdded.seq),
          error: () => {},
          complete: () => {},
        },
      );
    });
    send({ connected: message.tokens.length });
  } else if (message.cmd === 'connect' && message.mode === 'bare') {
    received = Array.from({ length: message.count }, () => new Map());
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
    firstAt = new Map();
    deliveries = 0;
    send({ reset: true });
  } else if (message.cmd === 'report') {
    const sentAt = new Map(Object.entries(message.sent).map(([seq, t]) => [Number(seq), t]));
    let lost = 0;
    let duplicated = 0;
    const latencies: number[] = [];
    for (const seen of received) {
      for (const seq of sentAt.keys()) if (!seen.has(seq)) lost++;
      for (const [seq, n] of seen) {
        if (n > 1) duplicated += n - 1;
        if (!sentAt.has(seq)) continue;
      }
    }
    for (const [seq, times] of firstAt) {
      const t0 = sentAt.get(seq);
      if (t0 !== undefined) for (const t of times) latencies.push(t - t0);
    }
    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
    send({ deliveries, lost, duplicated, p50: pct(0.5), p99: pct(0.99), lastAt });
  } else if (message.cmd === 'exit') {
    await Promise.all(clients.map((c) => c.dispose()));
    for (const s of sockets) s.terminate();
    process.exit(0);
  }
});
send({ ready: true });
