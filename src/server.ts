// One port: HTTP GraphQL, WebSockets, health, metrics and attachments.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import express, {
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { vapidKeys, type Config } from './config.js';
import type { DatabaseHandle } from './db/client.js';
import { createSendBatcher } from './db/send-batches.js';
import {
  createContactChecker,
  createDeliveryRecorder,
  createMembershipChecker,
} from './db/realtime-support.js';
import { createAttachmentSweeper } from './domain/attachment-sweep.js';
import { createUrlSigner } from './domain/attachment-urls.js';
import { configurePasswordHashing, createTokenService } from './domain/auth.js';
import type { Deps } from './domain/context.js';
import { createEvents } from './domain/events.js';
import { createMemberSets } from './domain/streams/member-sets.js';
import { findMemberSets } from './db/conversations.js';
import { createPresence } from './domain/presence.js';
import { createContext, type GraphQLContext } from './graphql/context.js';
import { createErrorFormatter } from './graphql/errors.js';
import { graphqlOverHttp } from './graphql/http.js';
import { buildSchema } from './graphql/schema.js';
import { attachWebSocketServer } from './graphql/websocket.js';
import type { Logger } from './logger.js';
import { createMetrics, createMetricsHandler, createMetricsListener } from './metrics.js';
import { countOutbox } from './db/outbox.js';
import { createHistoryReads, primaryOnly } from './db/replicas.js';
import { hasPushSubscriptions, writeNotificationSettings } from './db/notifications.js';
import { createNotificationQueue } from './notifications/queue.js';
import { deleteStreamBasesOlderThan } from './db/stream-bases.js';
import { STREAM_CURSOR_TTL_MS } from './domain/streams/stream-cursor.js';
import { observabilityPlugin } from './graphql/observability.js';
import { introspectionRules, limitRules, queryLimits } from './graphql/query-limits.js';
import { createRateLimiter } from './realtime/rate-limiter.js';
import type { EventBus } from './realtime/bus.js';
import { withDeadline } from './realtime/redis-deadline.js';
import type { PresenceStore } from './realtime/presence-store.js';
import { attachmentRoutes } from './http/attachments.js';
import { corsMiddleware } from './http/cors.js';
import { CSRF_SAFE_HEADERS, tokenlessGetNeedsSignIn } from './http/csrf.js';
import { isPlainJsonPost, jsonBody, readPlainJson } from './http/json-body.js';
import { clientAddress } from './http/client-address.js';
import { createBlobStore, removeStaleSpoolFiles, spoolDir } from './storage/index.js';
import { createWebPages } from './web-pages.js';

/** A subscription sent over HTTP would run without its event stream: point to WebSocket. */
const subscriptionsOverWebSocketOnly: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation }) {
        if (operation?.operation === 'subscription') {
          throw new GraphQLError(
            'Subscriptions run over WebSocket at this same URL (protocol graphql-transport-ws, or the legacy graphql-ws), not HTTP.',
            { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
          );
        }
      },
    };
  },
};

export interface ParleyServer {
  readonly httpServer: http.Server;
  /** Starts listening; resolves with the bound port. */
  listen(port: number, host?: string): Promise<number>;
  /** Stops accepting, finishes in-flight requests, then resolves. */
  close(): Promise<void>;
}

const MAX_REQUEST_BYTES = 1024 * 1024;

/** What a failed request carries to its answer (body-parser's errors have both). */
interface HttpError {
  status?: number;
  type?: string;
}
/** /readyz answers within about this, whatever the stores do (probes often time out at 1 s). */
const READINESS_DEADLINE_MS = 750;

export async function createServer(opts: {
  config: Config;
  database: DatabaseHandle;
  bus: EventBus;
  presenceStore: PresenceStore;
  logger: Logger;
}): Promise<ParleyServer> {
  const { config, database, bus, presenceStore, logger } = opts;
  configurePasswordHashing(config.passwordHashing);
  const sends = createSendBatcher(database.db);
  const metrics = createMetrics({
    outboxDepth: () => countOutbox(database.db),
    sendsPending: () => sends.pending(),
  });
  const rateLimiter = createRateLimiter({
    redis: config.redis,
    keyPrefix: config.redisKeyPrefix,
    multiplier: config.rateLimitMultiplier,
    commandTimeoutMs: config.redisCommandTimeoutMs,
    logger,
  });
  const events = createEvents(database.db, bus, logger, {
    graceMs: config.outboxGraceMs,
    drainIntervalMs: config.outboxDrainIntervalMs,
  });
  const historyReads =
    database.kind === 'postgres'
      ? createHistoryReads({
          primary: database.db,
          replicaUrls: config.databaseReplicaUrls,
          maxLagMs: config.databaseReplicaMaxLagMs,
          statementTimeoutMs: config.dbStatementTimeoutMs,
          poolSize: config.dbPoolSize,
          logger,
          onRead: (target) => metrics.historyReads.inc({ target }),
        })
      : primaryOnly(database.db);
  const blobs = createBlobStore(config.attachments);
  const sweeper = createAttachmentSweeper(database.db, blobs, logger, {
    unattachedTtlSeconds: config.attachments.unattachedTtlSeconds,
    intervalMs: config.attachments.sweepIntervalMs,
    alsoSweep: () =>
      Promise.all([
        removeStaleSpoolFiles(spoolDir(config.attachments), 3_600_000),
        // A stream cursor stays resumable for STREAM_CURSOR_TTL (see domain/streams/stream-cursor.ts).
        deleteStreamBasesOlderThan(database.db, STREAM_CURSOR_TTL_MS),
      ]),
  });
  // With the VAPID keys resolved (embedded mode keeps made-up ones in DATA_DIR).
  const notify = { ...config.notifications, vapid: vapidKeys(config) };
  const queue = createNotificationQueue({
    db: database.db,
    openPool: () => database.openJobPool(notify.jobConcurrency + 2),
    config: notify,
    logger,
    count: (what) => metrics.notifications.inc({ outcome: what }),
  });
  const deps: Deps = {
    db: database.db,
    sends,
    historyReads,
    tokens: createTokenService(config.jwtSecret, config.jwtExpiresIn),
    events,
    membership: createMembershipChecker(database.db),
    memberSets: createMemberSets((ids) => findMemberSets(database.db, ids)),
    deliveries: createDeliveryRecorder(database.db, (err) =>
      logger.warn({ err }, 'could not record deliveries'),
    ),
    contacts: createContactChecker(database.db),
    presence: createPresence(
      database.db,
      bus,
      presenceStore,
      { ttlMs: config.presenceTtlMs, graceMs: config.presenceGraceMs },
      logger,
    ),
    rateLimiter,
    attachments: {
      blobs,
      urls: createUrlSigner(config.jwtSecret, config.attachments.urlTtlSeconds),
      maxBytes: config.attachments.maxBytes,
      removeDiscardedSoon: sweeper.soon,
    },
    localDevelopment: config.mode === 'embedded' && config.nodeEnv !== 'production',
    observeDeliveryLag: (ms) => metrics.deliveryLag.observe(Math.max(0, ms) / 1000),
    push: {
      vapidPublicKey: notify.vapid?.publicKey,
      allowPrivateEndpoints: notify.allowPrivateEndpoints,
      enable: () => queue.ensureStarted(),
    },
  };
  // Malformed or oversized bodies: a GraphQL-shaped JSON error, never an HTML page or a stack.
  const answerError = (err: HttpError, res: http.ServerResponse) => {
    const status =
      typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) logger.error({ err }, 'request failed');
    const message =
      err.type === 'entity.too.large'
        ? `Request body is larger than ${MAX_REQUEST_BYTES} bytes.`
        : status === 500
          ? 'Unexpected error.'
          : 'Malformed request body: send JSON.';
    const code = status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST';
    res.statusCode = status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
  };
  const app = express();
  app.disable('x-powered-by');
  // GraphQL answers are per user and mostly to POSTs: hashing each body for an ETag is waste.
  app.set('etag', false);
  if (config.trustProxy) app.set('trust proxy', true);
  const allowOrigins = corsMiddleware(config.corsOrigins);
  if (allowOrigins) app.use(allowOrigins);
  // Set once Apollo has started: the common GraphQL POST, answered without Express.
  let graphqlPost: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined;
  const httpServer = http.createServer((req, res) => {
    if (
      graphqlPost &&
      (req.url === '/graphql' || req.url?.startsWith('/graphql?')) &&
      isPlainJsonPost(req, MAX_REQUEST_BYTES)
    ) {
      graphqlPost(req, res);
    } else {
      void app(req, res);
    }
  });
  const schema = buildSchema();
  const hideSchemaDetails = config.nodeEnv === 'production';
  const ws = attachWebSocketServer(httpServer, schema, deps, logger, metrics, {
    maxPayloadBytes: MAX_REQUEST_BYTES,
    connectionInitWaitMs: config.wsInitTimeoutMs,
    keepAliveMs: config.wsKeepAliveMs,
    introspection: config.introspection,
    hideSchemaDetails,
  });

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError: createErrorFormatter(logger, { hideSchemaDetails }),
    // Apollo's own complaints go through the same sanitizing logger as everything else (its
    // default logger prints errors as they are, parameters and all).
    logger: logger.child({ component: 'apollo' }),
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: hideSchemaDetails,
    // Query shape limits, before any resolver runs.
    validationRules: [...limitRules(), ...introspectionRules(config.introspection)],
    parseOptions: { maxTokens: queryLimits.maxTokens },
    // Requests a browser could send cross-site without a preflight are refused (http/csrf.ts).
    csrfPrevention: { requestHeaders: [...CSRF_SAFE_HEADERS] },
    allowBatchedHttpRequests: false,
    // Only documents sent in full: no automatic persisted queries.
    persistedQueries: false,
    // main.ts owns the signals: it stops this server, then the database, then exits.
    stopOnTerminationSignals: false,
    // Always on for Apollo: introspectionRules says no, naming our setting instead of Apollo's.
    introspection: true,
    plugins: [
      observabilityPlugin(logger, metrics),
      subscriptionsOverWebSocketOnly,
      ApolloServerPluginDrainHttpServer({ httpServer }),
      { serverWillStart: async () => ({ drainServer: () => ws.dispose() }) },
      // No HTTP caching of answers (they are per user), and its per-field hook wraps every
      // resolver: off.
      ApolloServerPluginCacheControlDisabled(),
      // Browsers get the project's own GraphiQL (web-pages.ts), never Apollo's CDN-loaded page.
      ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();
  // Membership changes announced while the broker was away were missed.
  const stopInvalidating = bus.onReconnect(() => deps.memberSets.invalidateAll());
  events.start();
  deps.presence.start();
  sweeper.start();
  // The queue runs from the start where notifications are set up; in embedded mode (VAPID keys
  // made up on first start) only once someone has a push subscription.
  if (
    notify.webhookUrls.length > 0 ||
    (notify.vapid && (config.mode === 'production' || (await hasPushSubscriptions(database.db))))
  ) {
    await queue.ensureStarted();
  } else {
    await writeNotificationSettings(database.db, {
      pushEnabled: false,
      pushDelayMs: notify.pushDelayMs,
      pushPreview: notify.pushPreview,
      webhookEndpoints: [],
    });
  }

  const answerGraphQL = graphqlOverHttp(apollo, async ({ req, res }) => {
    const header = req.headers['x-request-id'];
    const requestId =
      typeof header === 'string' && /^[\w.-]{1,100}$/.test(header) ? header : randomUUID();
    res.setHeader('x-request-id', requestId);
    return createContext(
      deps,
      req.headers.authorization,
      requestId,
      clientAddress(req, config.trustProxy),
    );
  });
  const graphql: RequestHandler[] = [
    jsonBody(MAX_REQUEST_BYTES),
    tokenlessGetNeedsSignIn,
    (req, res, next) => answerGraphQL(req, res, next),
  ];
  // Most traffic, a POST of plain JSON to /graphql, skips Express: its router, request and
  // response set-up were ~10 % of a small request's CPU. CORS headers and body errors are the
  // same as Express's path gives (the cors middleware and the error answer below are shared).
  graphqlPost = (req, res) => {
    const onError = (err: unknown) => answerError(err as HttpError, res);
    const go = () =>
      readPlainJson(req, (err, body) => {
        if (err) return onError(err);
        void answerGraphQL(Object.assign(req, { body }), res, onError);
      });
    if (allowOrigins) allowOrigins(req as Request, res as Response, go);
    else go();
  };
  app.post('/graphql', ...graphql);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Traffic and load are nobody else's business: see MetricsConfig for who gets /metrics where.
  const scrapeMetrics = createMetricsHandler(metrics.registry, config.metrics.token);
  const metricsListener =
    config.metrics.port === undefined ? undefined : createMetricsListener(scrapeMetrics, logger);
  app.get('/metrics', async (req, res) => {
    if (config.metrics.onPublicPort) await scrapeMetrics(req, res);
    else res.status(404).type('text/plain').send('Not found\n');
  });
  app.get('/readyz', async (_req, res) => {
    // Each check has a deadline: a hung store (a frozen Redis keeps its connections open and
    // silent) is unreachable for this purpose, and a load balancer must get its answer.
    const [database_, broker] = await Promise.all([
      withDeadline(database.ping(), READINESS_DEADLINE_MS, 'database ping').then(
        () => true,
        () => false,
      ),
      withDeadline(bus.ping(), READINESS_DEADLINE_MS, 'pub/sub ping').catch(() => false),
    ]);
    res.status(database_ && broker ? 200 : 503).json({
      status: database_ && broker ? 'ready' : 'unavailable',
      database: database_ ? 'ok' : 'unreachable',
      pubsub: `${bus.kind}: ${broker ? 'ok' : 'unreachable'}`,
    });
  });

  app.use(attachmentRoutes(deps, { spoolDir: spoolDir(config.attachments), logger }));
  app.use(createWebPages({ graphiql: config.graphiql, demoPage: config.demoPage }));

  // Other methods (a GET query, a browser's GET, which web pages may answer first) come here.
  app.use('/graphql', ...graphql);

  const onError: ErrorRequestHandler = (err: HttpError, _req, res, _next) => answerError(err, res);
  app.use(onError);

  return {
    httpServer,
    listen: async (port, host) => {
      if (metricsListener && config.metrics.port !== undefined) {
        await metricsListener.listen(config.metrics.port);
      }
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          httpServer.off('error', reject);
          resolve((httpServer.address() as AddressInfo).port);
        });
      });
    },
    close: async () => {
      stopInvalidating();
      await metricsListener?.close();
      await apollo.stop();
      await deps.presence.stop();
      await events.stop();
      await sweeper.stop();
      await queue.stop();
      await historyReads.close();
      await deps.deliveries.stop();
      await rateLimiter.close();
    },
  };
}
