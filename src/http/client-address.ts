// The address a request came from, as Express's req.ip gives it: the socket's peer, or with
// TRUST_PROXY=true (every hop trusted) the left-most X-Forwarded-For entry.
import type { IncomingMessage } from 'node:http';

export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    if (typeof forwarded === 'string') {
      const first = forwarded.split(',')[0]!.trim();
      if (first) return first;
    }
  }
  return req.socket.remoteAddress ?? 'unknown';
}
