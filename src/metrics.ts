// Prometheus metrics (prom-client), served at /metrics.
import client from 'prom-client';

export function createMetrics(opts: { outboxDepth: () => Promise<number> }) {
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
  new client.Gauge({
    name: 'parley_outbox_depth',
    help: 'Events committed but not yet published',
    registers: [registry],
    async collect() {
      this.set(await opts.outboxDepth().catch(() => -1));
    },
  });
  return { registry, requests, duration, messagesSent, connections, subscriptions, deliveryLag };
}

export type Metrics = ReturnType<typeof createMetrics>;
