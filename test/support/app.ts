// Starts a real Parley server in-process on a free port, over PGlite or a fresh database on the
// real PostgreSQL of the test run, and talks to it over HTTP like a client would.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { createLogger } from '../../src/logger.js';
import type { EventBus } from '../../src/realtime/bus.js';
import { createBackplane } from '../../src/realtime/backplane.js';
import { createServer } from '../../src/server.js';
import { gqlAt } from './process.js';
import { LIGHT_PASSWORD_HASHING } from './hashing.js';
import { createDatabase } from './services.js';

export type BackendName = 'pglite' | 'postgres';

export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

export interface TestApp {
  /** The GraphQL endpoint. */
  readonly url: string;
  /** http://127.0.0.1:port, for the other HTTP routes (/attachments). */
  readonly origin: string;
  /** The app's DATA_DIR (attachments are kept under it). */
  readonly dataDir: string;
  readonly wsUrl: string;
  readonly backend: BackendName;
  /** The PostgreSQL database (postgres backend only). */
  readonly databaseUrl: string | undefined;
  readonly database: DatabaseHandle;
  readonly bus: EventBus;
  /** Statements issued by the application so far. */
  readonly statements: string[];
  /**
   * Cuts every open WebSocket connection from the server's side (the TCP connection destroyed,
   * as when a server or a proxy drops it); resolves with how many were cut.
   */
  dropWebSockets(): number;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

/** The backends to run a suite against: PGlite always, PostgreSQL when the run started one. */
export function backends(): { name: BackendName; available: boolean }[] {
  return [
    { name: 'pglite', available: true },
    { name: 'postgres', available: inject('postgresUrl') !== '' },
  ];
}

export interface StartOptions {
  /** Fan out through this Redis (else in process). */
  redisUrl?: string;
  /** Extra settings, as environment variables. */
  env?: Record<string, string>;
  /** Share this PostgreSQL database (another app's) instead of a fresh one. */
  databaseUrl?: string;
  /** PGlite: open this data folder (kept after close) instead of an in-memory database. */
  embeddedDataDir?: string;
}

/**
 * The two ways Parley runs, for suites that need pub/sub: embedded (PGlite, in process) always,
 * production (PostgreSQL + Redis) when the run started both.
 */
export function deployments(): {
  name: string;
  backend: BackendName;
  redisUrl: string | undefined;
  available: boolean;
}[] {
  const redisUrl = inject('redisUrl');
  return [
    { name: 'PGlite + in-process', backend: 'pglite', redisUrl: undefined, available: true },
    {
      name: 'PostgreSQL + Redis',
      backend: 'postgres',
      redisUrl,
      available: inject('postgresUrl') !== '' && redisUrl !== '',
    },
  ];
}

export async function startApp(backend: BackendName, opts: StartOptions = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-test-'));
  const databaseUrl =
    backend === 'postgres'
      ? (opts.databaseUrl ?? (await createDatabase(inject('postgresUrl'))))
      : undefined;
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    JWT_SECRET: randomBytes(32).toString('hex'),
    PORT: '0',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}),
    // Apps of a test run share one Redis: each keeps to its own keys and channels.
    REDIS_KEY_PREFIX: `test-${randomBytes(6).toString('hex')}:`,
    // Tests register many users from one address; the rate-limit tests set their own.
    RATE_LIMIT_MULTIPLIER: '1000',
    ...LIGHT_PASSWORD_HASHING,
    ...opts.env,
  });
  const statements: string[] = [];
  const database = await openDatabase({
    url: config.databaseUrl,
    dataDir: backend === 'pglite' ? opts.embeddedDataDir : undefined,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    poolSize: 20,
    onQuery: (sql) => statements.push(sql),
  });
  const logger = createLogger('silent');
  const backplane = createBackplane(config, logger);
  const { bus, presenceStore } = backplane;
  const server = await createServer({ config, database, bus, presenceStore, logger });
  const webSockets = new Set<Duplex>();
  server.httpServer.on('upgrade', (_request, socket: Duplex) => {
    webSockets.add(socket);
    socket.once('close', () => webSockets.delete(socket));
  });
  const port = await server.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}/graphql`;
  return {
    url,
    origin: `http://127.0.0.1:${port}`,
    dataDir,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    backend,
    databaseUrl,
    database,
    bus,
    statements,
    dropWebSockets() {
      const count = webSockets.size;
      for (const socket of webSockets) socket.destroy();
      return count;
    },
    gql: (query, variables, token) => gqlAt(url, query, variables, token),
    async close() {
      await server.close();
      await backplane.close();
      // A test may have closed the database on purpose already.
      await database.close().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let phoneCounter = 0;
const phonePrefix = 100 + randomInt(900);
/** A phone number (E.164) no other user of this test process has. */
export function uniquePhone(): string {
  phoneCounter += 1;
  return `+1${phonePrefix}${String(phoneCounter).padStart(7, '0')}`;
}

export interface TestUser {
  id: string;
  phone: string;
  displayName: string;
  token: string;
}

export async function registerUser(app: TestApp, displayName = 'Test User'): Promise<TestUser> {
  const phone = uniquePhone();
  const res = await app.gql<{ register: { token: string; user: { id: string; phone: string } } }>(
    `mutation($input: RegisterInput!) { register(input: $input) { token user { id phone } } }`,
    { input: { phone, displayName, password: 'correct horse battery' } },
  );
  if (!res.data?.register) throw new Error(`register failed: ${JSON.stringify(res.errors)}`);
  return { ...res.data.register.user, displayName, token: res.data.register.token };
}

/** The data of a response that must have succeeded. */
export function ok<T>(res: GraphQLResponse<T>): T {
  if (res.errors?.length || !res.data) {
    throw new Error(`expected success, got ${JSON.stringify(res.errors)}`);
  }
  return res.data;
}

/** The code of the first error of a response that must have failed. */
export function errorCode(res: GraphQLResponse<unknown>): string | undefined {
  return res.errors?.[0]?.extensions?.['code'] as string | undefined;
}
