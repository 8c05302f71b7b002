/**
 * A REAL local receiver of Standard Webhooks (https://www.standardwebhooks.com) for the webhook
 * tests: plain HTTP on a free loopback port, each POST verified with the `standardwebhooks`
 * package (`webhook-id`, `webhook-timestamp`, `webhook-signature`; HMAC-SHA256 of the raw body,
 * timestamp within 5 minutes). It can answer scripted statuses and go down and come back on the
 * same port, so tests can watch retries and assert exactly-once delivery by id and order.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { arrivals } from './arrivals.js';

/** A delivery the receiver verified and accepted (answered 2xx). Duplicates are kept. */
export interface WebhookDelivery {
  /** The `webhook-id` header. */
  id: string;
  type: string;
  /** The body's `timestamp` (as sent). */
  timestamp: string;
  data: unknown;
  /** Date.now() when it arrived. */
  receivedAt: number;
}

/** Every POST to `url`, answered or not, in order. */
export interface WebhookAttempt {
  /** The `webhook-id` header, if any. */
  id: string | undefined;
  status: number;
  receivedAt: number;
}

/** A POST refused for what it sent (signature, body), with the reason. */
export interface RejectedWebhook {
  id: string | undefined;
  status: number;
  reason: string;
  receivedAt: number;
}

export interface WebhookReceiver {
  /** http://127.0.0.1:PORT/webhook — the same across `down()` and `up()`. */
  readonly url: string;
  readonly secret: string;
  /** The deliveries accepted so far, oldest first, duplicates included. */
  received(): WebhookDelivery[];
  /** Every POST so far with the status it got (what a sender's retries look like). */
  readonly attempts: readonly WebhookAttempt[];
  /** The POSTs refused: 401 for a bad or missing signature, 400 for a body not {type, timestamp, data}. */
  readonly rejected: readonly RejectedWebhook[];
  /**
   * The next POSTs answer these statuses, in order, before the default 204: a non-2xx one is
   * answered without looking at the request (and nothing is received); a 2xx one replaces the
   * 204 of a delivery that verifies.
   */
  respondWith(statuses: number[]): void;
  /**
   * Stops listening and drops open connections: connections to `url` are refused. (Every answer
   * closes its connection, so no sender holds a kept-alive socket to fail on instead.)
   */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /**
   * Resolves with all deliveries once `predicate` holds for them (checked now and on each
   * delivery); rejects after `timeoutMs` listing what did arrive.
   */
  waitFor(
    predicate: (deliveries: WebhookDelivery[]) => boolean,
    timeoutMs?: number,
  ): Promise<WebhookDelivery[]>;
  close(): Promise<void>;
}

/** A new signing secret in the `whsec_` form: 24 random bytes, base64. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

const PATH = '/webhook';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function listen(server: http.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function stop(server: http.Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startWebhookReceiver(opts: { secret: string }): Promise<WebhookReceiver> {
  const webhook = new Webhook(opts.secret);
  const attempts: WebhookAttempt[] = [];
  const rejected: RejectedWebhook[] = [];
  const script: number[] = [];
  const arrived = arrivals<WebhookDelivery>((all) => {
    const lines = all.map((d) => `  ${d.id} ${d.type} ${JSON.stringify(d.data)}`);
    const refused = rejected.map((r) => `  ${r.id} ${r.status} ${r.reason}`);
    return (
      (lines.length ? `${lines.length} arrived:\n${lines.join('\n')}` : 'none arrived') +
      `\n${attempts.length} POST(s)` +
      (refused.length ? `, refused:\n${refused.join('\n')}` : '')
    );
  });
  const deliveries = arrived.items;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const receivedAt = Date.now();
    const headers: Record<string, string> = {};
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const id = headers['webhook-id'];
    if ((req.url ?? '').split('?')[0] !== PATH) {
      res.writeHead(404).end();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const answer = (status: number, text = ''): void => {
      attempts.push({ id, status, receivedAt });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
    };
    const refuse = (status: number, reason: string): void => {
      rejected.push({ id, status, reason, receivedAt });
      answer(status, reason);
    };

    const scripted = script.shift();
    if (scripted !== undefined && (scripted < 200 || scripted > 299)) {
      return answer(scripted, `scripted ${scripted}`);
    }
    let event: unknown;
    try {
      event = webhook.verify(body, headers);
    } catch (err) {
      return refuse(401, `signature: ${(err as Error).message}`);
    }
    const { type, timestamp, data } = (event ?? {}) as Record<string, unknown>;
    if (typeof type !== 'string' || typeof timestamp !== 'string' || data === undefined) {
      return refuse(400, 'body is not {type, timestamp, data}');
    }
    arrived.add({ id: id!, type, timestamp, data, receivedAt });
    answer(scripted ?? 204);
  }

  const server = http.createServer((req, res) => {
    // No keep-alive: once down() has dropped the connections, a sender's next request meets a
    // refused connection (ECONNREFUSED), never a reused socket the receiver already closed.
    res.setHeader('connection', 'close');
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  await listen(server, 0);
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}${PATH}`,
    secret: opts.secret,
    attempts,
    rejected,

    received() {
      return [...deliveries];
    },

    respondWith(statuses) {
      script.push(...statuses);
    },

    down() {
      return stop(server);
    },

    async up() {
      if (!server.listening) await listen(server, port);
    },

    waitFor(predicate, timeoutMs = 5000) {
      return arrived
        .waitFor(predicate, timeoutMs)
        .catch((err: Error) => Promise.reject(new Error(`webhook receiver: ${err.message}`)));
    },

    close() {
      return stop(server);
    },
  };
}
