// Prometheus metrics (prom-client), served at /metrics: on the public port, on a port of its
// own (METRICS_PORT), and/or behind a bearer token (METRICS_TOKEN); see MetricsConfig.
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import client from 'prom-client';
import type { Logger } from './logger.js';

export function createMetrics(opts: {
  outboxDepth: () => Promise<number>;
  sendsPending: () => number;
}) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'parley_' });
  const requests = new client.Counter({
    name: 'parley_graphql_requests_total',
    help: 'GraphQL operations by root field, kind and outcome',
    labelNames: ['field', 'kind', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'parley_graphql_request_duration_seconds',
    help: 'GraphQL operation latency by root field',
    labelNames: ['field', 'kind'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const messagesSent = new client.Counter({
    name: 'parley_messages_sent_total',
    help: 'Messages accepted by sendMessage',
    registers: [registry],
  });
  const connections = new client.Gauge({
    name: 'parley_websocket_connections',
    help: 'Open, authenticated WebSocket connections on this instance',
    registers: [registry],
  });
  const subscriptions = new client.Gauge({
    name: 'parley_active_subscriptions',
    help: 'Running GraphQL subscriptions on this instance',
    registers: [registry],
  });
  const deliveryLag = new client.Histogram({
    name: 'parley_pubsub_delivery_lag_seconds',
    help: 'Time from a message being stored to its event reaching a subscription on this instance',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const notifications = new client.Counter({
    name: 'parley_notifications_total',
    help: 'Pushes and webhook deliveries by outcome (sent, failed, gone)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const historyReads = new client.Counter({
    name: 'parley_history_reads_total',
    help: 'History pages and searches by where they were read (replica, primary)',
    labelNames: ['target'] as const,
    registers: [registry],
  });
  new client.Gauge({
    name: 'parley_outbox_depth',
    help: 'Events committed but not yet published',
    registers: [registry],
    async collect() {
      this.set(await opts.outboxDepth().catch(() => -1));
    },
  });
  new client.Gauge({
    name: 'parley_sends_pending',
    help: 'Sends this instance holds for the group commit: waiting for a batch or in one not yet committed',
    registers: [registry],
    collect() {
      this.set(opts.sendsPending());
    },
  });
  return {
    registry,
    requests,
    duration,
    messagesSent,
    connections,
    subscriptions,
    deliveryLag,
    notifications,
    historyReads,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Answers a scrape; with a token set, only a request that carries it (compared in constant time). */
export function createMetricsHandler(registry: client.Registry, token: string | undefined) {
  const expected = token === undefined ? undefined : digest(`Bearer ${token}`);
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (expected) {
      const given = req.headers.authorization;
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        res.writeHead(401, {
          'content-type': 'text/plain; charset=utf-8',
          'www-authenticate': 'Bearer realm="metrics"',
        });
        res.end('Unauthorized: /metrics needs Authorization: Bearer <METRICS_TOKEN>\n');
        return;
      }
    }
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(body);
  };
}

export interface MetricsListener {
  /** Starts listening on every interface; resolves with the bound port. */
  listen(port: number): Promise<number>;
  close(): Promise<void>;
}

/** The listener of METRICS_PORT: /metrics and nothing else, for a port kept off the internet. */
export function createMetricsListener(
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>,
  logger: Logger,
): MetricsListener {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    handle(req, res).catch((err: unknown) => {
      logger.error({ err }, 'metrics scrape failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  return {
    listen: (port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        // A scraper keeps its connection open between scrapes: do not wait for it.
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
