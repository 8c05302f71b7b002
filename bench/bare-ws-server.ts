// The floor under fan-out (its own process): a bare ws server that sends one payload to every
// socket, as fast as it can, with no GraphQL, no pub/sub, no database.
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
wss.on('listening', () => {
  const address = wss.address();
  process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', async (raw) => {
  const { count, payload } = raw as { count: number; payload: string };
  const started = Date.now();
  for (let seq = 1; seq <= count; seq++) {
    const frame = payload.replace('"seq":0', `"seq":${seq}`);
    for (const socket of wss.clients) socket.send(frame);
    // Let the event loop flush, as a server serving other work would.
    if (seq % 10 === 0) await new Promise((r) => setImmediate(r));
  }
  process.send!({ sent: count, sendMs: Date.now() - started });
});
