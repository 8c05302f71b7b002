// Composition root: config → stores → server → listen; graceful shutdown on SIGTERM/SIGINT.
import { ConfigError, loadConfig } from './config.js';
import { openDatabase, poolerHint, pooledStatementTimeout, type Database } from './db/client.js';
import { createLogger, safeError, type Logger, type SafeError } from './logger.js';
import { createBackplane } from './realtime/backplane.js';
import { createServer } from './server.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const database = await openDatabase({
    url: config.databaseUrl,
    directUrl: config.databaseDirectUrl,
    pooler: config.databasePooler,
    dataDir: config.dataDir,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    poolSize: config.dbPoolSize,
    sharedBuffersMb: config.embeddedSharedBuffersMb,
    onPrimaryChange: (primary, previous) => {
      const where = (h: { host: string; port: number }) => `${h.host}:${h.port}`;
      if (!primary) {
        logger.error('no database server accepts writes (failover in progress?)');
      } else if (previous) {
        logger.warn({ primary: where(primary), previous: where(previous) }, 'database failover');
      } else logger.info({ primary: where(primary) }, 'database primary found');
    },
  });
  if (config.databasePooler === 'transaction') {
    await warnWithoutStatementTimeout(database.db, logger);
  }
  const backplane = createBackplane(config, logger);
  const { bus, presenceStore } = backplane;
  const server = await createServer({ config, database, bus, presenceStore, logger });
  const port = await server.listen(config.port);
  logger.info(
    {
      port,
      mode: config.mode,
      database: database.kind,
      dataDir: config.databaseUrl ? undefined : config.dataDir,
      corsOrigins: config.corsOrigins === '*' ? '*' : config.corsOrigins.join(',') || 'none',
      metrics: config.metrics.port
        ? `port ${config.metrics.port}${config.metrics.token ? ', token' : ''}`
        : config.metrics.onPublicPort
          ? `public port${config.metrics.token ? ', token' : ''}`
          : 'off (set METRICS_PORT or METRICS_TOKEN)',
    },
    `Parley listening on http://localhost:${port}/graphql`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    try {
      await server.close();
      await backplane.close();
      await database.close();
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/**
 * Behind a transaction pooler DB_STATEMENT_TIMEOUT_MS cannot be sent with each connection (it
 * would be session state, and PgBouncer refuses it as a startup parameter): the role, the
 * database or the pooler must set one. Without any, a runaway statement holds a server
 * connection for as long as it runs.
 */
async function warnWithoutStatementTimeout(db: Database, logger: Logger): Promise<void> {
  const timeout = await pooledStatementTimeout(db);
  if (timeout !== '0') {
    logger.info({ statementTimeout: timeout }, 'statement timeout of pooled connections');
    return;
  }
  logger.warn(
    'no statement timeout on the pooled connections (DATABASE_POOLER=transaction does not send DB_STATEMENT_TIMEOUT_MS): ' +
      "set one on the role or database (ALTER ROLE parley SET statement_timeout = '5s') or in the pooler",
  );
}

// postgres.js 3.4.9 can throw from a deferred write or a close handler on a connection that
// closed meanwhile (a database restart): https://github.com/porsager/postgres/issues/1154 (fix
// not yet released). Such an error is thrown by postgres.js' own connection code (its first stack
// frame is there, in a timer or an async close handler: an uncaught exception or an unhandled
// rejection); that connection is already gone and the pool replaces it, so it is survivable.
// Anything else uncaught still ends the process.
const fromPostgresConnection = (err: unknown) =>
  err instanceof TypeError &&
  /^\s*at .*postgres[\\/]src[\\/]connection\.js/m.test(
    (err.stack ?? '').split('\n').slice(1, 2).join('\n'),
  );
process.on('uncaughtException', (err, origin) => {
  const known = fromPostgresConnection(err);
  // Through the log sanitizer: an unhandled database error would otherwise print its parameters.
  console.error(
    known
      ? 'recovered from a postgres.js closed-connection error'
      : `uncaught exception (${origin})`,
    JSON.stringify(safeError(err)),
  );
  if (!known) process.exit(1);
});

main().catch((err: unknown) => {
  // Every message down the cause chain ("Failed query" says little without its cause), sanitized.
  const messages: string[] = [];
  for (let e: SafeError | undefined = safeError(err); e; e = e.cause) messages.push(e.message);
  const hint = poolerHint(err);
  console.error('Parley failed to start:', messages.join(': '), ...(hint ? [`\n${hint}`] : []));
  process.exit(1);
});
