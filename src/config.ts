// The only reader of process.env. Settings are validated once, typed and frozen; a bad value
// stops the start with a message that names the setting and what is wrong with it.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import webPush from 'web-push';
import { z } from 'zod';
import { parseDatabaseTargets } from './db/primary.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const durationPattern = /^\d+\s*(s|m|h|d)$/;

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `host:port,host:port` (IPv6 hosts in brackets: `[::1]:7000`) → a frozen list. */
function hostPortList(name: string, value: string, ctx: z.RefinementCtx): readonly HostPort[] {
  const list: HostPort[] = [];
  for (const item of value.split(',').map((i) => i.trim())) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[\w.-]+):(\d{1,5})$/.exec(item);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65535) {
      ctx.addIssue({
        code: 'custom',
        message: `${name}: "${item}" is not host:port (the list is comma-separated, e.g. 10.0.0.1:7000,10.0.0.2:7000)`,
      });
      return z.NEVER;
    }
    list.push(Object.freeze({ host: match[1]!.replace(/^\[|\]$/g, ''), port }));
  }
  return Object.freeze(list);
}

/**
 * Where Redis is: one server (`REDIS_URL`), a Redis Cluster (`REDIS_CLUSTER_NODES`, any of its
 * nodes as seeds; conversation topics use sharded pub/sub) or a master watched by Redis Sentinel
 * (`REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`). At most one of the three.
 */
export type RedisTopology =
  | { readonly kind: 'single'; readonly url: string }
  | { readonly kind: 'cluster'; readonly nodes: readonly HostPort[]; readonly auth?: RedisAuth }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly HostPort[];
      readonly name: string;
      /** For the master and replicas (the sentinels themselves are asked without). */
      readonly auth?: RedisAuth;
    };

/** REDIS_USERNAME (an ACL user; unset: `default`) and REDIS_PASSWORD. */
export interface RedisAuth {
  readonly username?: string;
  readonly password: string;
}

const EnvSchema = z.object({
  PORT: z.coerce
    .number({ error: 'PORT must be a number' })
    .int('PORT must be a whole number')
    .min(0, 'PORT must be between 0 and 65535')
    .max(65535, 'PORT must be between 0 and 65535')
    .default(4000),
  DATABASE_URL: z
    .string()
    .trim()
    .refine((v) => v === '' || /^postgres(ql)?:\/\//.test(v), {
      message: 'DATABASE_URL must start with postgres:// or postgresql://',
    })
    .optional(),
  DATABASE_URLS: z.string().trim().optional(),
  DATABASE_REPLICA_URLS: z.string().trim().optional(),
  DATABASE_REPLICA_MAX_LAG_MS: z.coerce
    .number({ error: 'DATABASE_REPLICA_MAX_LAG_MS must be a number of milliseconds' })
    .int('DATABASE_REPLICA_MAX_LAG_MS must be a whole number of milliseconds')
    .min(100, 'DATABASE_REPLICA_MAX_LAG_MS must be at least 100')
    .max(600_000, 'DATABASE_REPLICA_MAX_LAG_MS must be at most 600000')
    .default(1_000),
  DATABASE_DIRECT_URL: z
    .string()
    .trim()
    .refine((v) => v === '' || /^postgres(ql)?:\/\//.test(v), {
      message: 'DATABASE_DIRECT_URL must start with postgres:// or postgresql://',
    })
    .optional(),
  DATABASE_POOLER: z
    .enum(['none', 'transaction'], {
      error: 'DATABASE_POOLER must be none or transaction (PgBouncer in pool_mode=transaction)',
    })
    .default('none'),
  DATA_DIR: z.string().trim().min(1).default('./.parley'),
  REDIS_URL: z
    .string()
    .trim()
    .refine((v) => v === '' || /^rediss?:\/\//.test(v), {
      message: 'REDIS_URL must start with redis:// or rediss://',
    })
    .optional(),
  REDIS_CLUSTER_NODES: z
    .string()
    .trim()
    .transform((v, ctx) => hostPortList('REDIS_CLUSTER_NODES', v, ctx))
    .optional(),
  REDIS_SENTINELS: z
    .string()
    .trim()
    .transform((v, ctx) => hostPortList('REDIS_SENTINELS', v, ctx))
    .optional(),
  REDIS_SENTINEL_NAME: z
    .string()
    .trim()
    .regex(/^[\w.-]{1,64}$/, 'REDIS_SENTINEL_NAME must be 1–64 letters, digits, _ . or -')
    .optional(),
  REDIS_USERNAME: z
    .string()
    .trim()
    .regex(/^\S{1,128}$/, 'REDIS_USERNAME must be 1–128 characters without spaces')
    .optional(),
  REDIS_PASSWORD: z.string().max(512, 'REDIS_PASSWORD must be at most 512 characters').optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[\w:.-]{1,64}$/, 'REDIS_KEY_PREFIX must be 1–64 letters, digits, _ : . or -')
    .default('parley:'),
  REDIS_COMMAND_TIMEOUT_MS: z.coerce
    .number({ error: 'REDIS_COMMAND_TIMEOUT_MS must be a number of milliseconds' })
    .int()
    .min(10, 'REDIS_COMMAND_TIMEOUT_MS must be at least 10')
    .max(60_000, 'REDIS_COMMAND_TIMEOUT_MS must be at most 60000')
    .default(150),
  JWT_SECRET: z.string().optional(),
  JWT_EXPIRES_IN: z
    .string()
    .trim()
    .regex(durationPattern, 'JWT_EXPIRES_IN must look like 30m, 12h or 7d')
    .default('7d'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
    .optional(),
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10),
  EMBEDDED_SHARED_BUFFERS_MB: z.coerce
    .number({ error: 'EMBEDDED_SHARED_BUFFERS_MB must be a number of megabytes' })
    .int('EMBEDDED_SHARED_BUFFERS_MB must be a whole number of megabytes')
    .min(1, 'EMBEDDED_SHARED_BUFFERS_MB must be at least 1')
    .max(1_024, 'EMBEDDED_SHARED_BUFFERS_MB must be at most 1024 (PGlite has 2 GB in all)')
    .default(16),
  WS_INIT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3_000),
  WS_KEEPALIVE_MS: z.coerce.number().int().min(0).max(300_000).default(12_000),
  OUTBOX_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(2_000),
  OUTBOX_DRAIN_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(1_000),
  GRAPHQL_INTROSPECTION: z.enum(['true', 'false']).optional(),
  GRAPHIQL: z.enum(['true', 'false'], { error: 'GRAPHIQL must be true or false' }).optional(),
  DEMO_PAGE: z.enum(['true', 'false'], { error: 'DEMO_PAGE must be true or false' }).optional(),
  RATE_LIMIT_MULTIPLIER: z.coerce
    .number({ error: 'RATE_LIMIT_MULTIPLIER must be a number (0 turns rate limits off)' })
    .min(0)
    .max(1_000_000)
    .default(1),
  TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  // argon2id cost of new password hashes (existing hashes keep theirs); the defaults are the
  // argon2 package's own: 64 MiB, 3 passes, 4 lanes.
  PASSWORD_HASH_MEMORY_KIB: z.coerce.number().int().min(64).max(4_194_304).default(65_536),
  PASSWORD_HASH_TIME_COST: z.coerce.number().int().min(1).max(100).default(3),
  PASSWORD_HASH_PARALLELISM: z.coerce.number().int().min(1).max(16).default(4),
  CORS_ORIGINS: z
    .string()
    .trim()
    .transform((v, ctx): CorsOrigins => {
      if (v === '*') return '*';
      const origins = v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean);
      for (const origin of origins) {
        if (!isOrigin(origin)) {
          ctx.addIssue({
            code: 'custom',
            message: `"${origin}" is not an origin (scheme://host[:port], no path), and the list is comma-separated or *`,
          });
          return z.NEVER;
        }
      }
      return Object.freeze(origins);
    })
    .optional(),
  PRESENCE_TTL_MS: z.coerce.number().int().min(1_000).max(600_000).default(45_000),
  PRESENCE_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000, 'PRESENCE_GRACE_MS must be at most 10000 (10 s)')
    .default(5_000),
  ATTACHMENT_MAX_BYTES: z.coerce
    .number({ error: 'ATTACHMENT_MAX_BYTES must be a number of bytes' })
    .int()
    .min(1_024, 'ATTACHMENT_MAX_BYTES must be at least 1024')
    .max(1_073_741_824, 'ATTACHMENT_MAX_BYTES must be at most 1 GiB')
    .default(10 * 1024 * 1024),
  ATTACHMENT_STORAGE: z
    .enum(['local', 's3'], { error: 'ATTACHMENT_STORAGE must be local or s3' })
    .default('local'),
  ATTACHMENT_URL_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(30)
    .max(7 * 86_400)
    .default(900),
  ATTACHMENT_UNATTACHED_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .default(86_400),
  ATTACHMENT_SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).max(86_400_000).default(3_600_000),
  S3_BUCKET: z.string().trim().optional(),
  S3_REGION: z.string().trim().optional(),
  S3_ENDPOINT: z
    .string()
    .trim()
    .refine((v) => v === '' || /^https?:\/\//.test(v), {
      message: 'S3_ENDPOINT must start with http:// or https://',
    })
    .optional(),
  S3_ACCESS_KEY_ID: z.string().trim().optional(),
  S3_SECRET_ACCESS_KEY: z.string().trim().optional(),
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('false'),
  METRICS_PORT: z.coerce
    .number({ error: 'METRICS_PORT must be a number' })
    .int('METRICS_PORT must be a whole number')
    .min(1, 'METRICS_PORT must be between 1 and 65535')
    .max(65535, 'METRICS_PORT must be between 1 and 65535')
    .optional(),
  METRICS_TOKEN: z
    .string()
    .trim()
    .min(16, 'METRICS_TOKEN must be at least 16 characters')
    .regex(/^[\x21-\x7e]+$/, 'METRICS_TOKEN must be printable ASCII without spaces')
    .optional(),
  VAPID_PUBLIC_KEY: z.string().trim().optional(),
  VAPID_PRIVATE_KEY: z.string().trim().optional(),
  VAPID_SUBJECT: z
    .string()
    .trim()
    .regex(/^(mailto:|https:\/\/)\S+$/, 'VAPID_SUBJECT must be a mailto: or https: URL')
    .optional(),
  PUSH_DELAY_MS: z.coerce
    .number({ error: 'PUSH_DELAY_MS must be a number of milliseconds' })
    .int()
    .min(0, 'PUSH_DELAY_MS must be at least 0')
    .max(3_600_000, 'PUSH_DELAY_MS must be at most 3600000 (an hour)')
    .default(5_000),
  PUSH_PREVIEW: z
    .enum(['true', 'false'], { error: 'PUSH_PREVIEW must be true or false' })
    .optional(),
  PUSH_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(5_000),
  WEBHOOK_URL: z
    .string()
    .trim()
    .transform((v, ctx): readonly string[] => {
      const urls = v
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean);
      for (const url of urls) {
        if (!/^https?:\/\/\S+$/.test(url) || !URL.canParse(url)) {
          ctx.addIssue({
            code: 'custom',
            message: `"${url}" is not an http(s) URL (the list is comma-separated)`,
          });
          return z.NEVER;
        }
      }
      return Object.freeze([...new Set(urls)]);
    })
    .optional(),
  WEBHOOK_SECRET: z
    .string()
    .trim()
    .regex(/^whsec_[A-Za-z0-9+/=]{32,}$/, 'WEBHOOK_SECRET must be whsec_ and base64 (24+ bytes)')
    .optional(),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(5_000),
  ALLOW_PRIVATE_ENDPOINTS: z
    .enum(['true', 'false'], { error: 'ALLOW_PRIVATE_ENDPOINTS must be true or false' })
    .default('false'),
  JOB_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  S3_KEY_PREFIX: z
    .string()
    .regex(/^[\w/.-]{0,200}$/, 'S3_KEY_PREFIX must be letters, digits, _ / . or -')
    .default('attachments/'),
});

export type LogLevel = (typeof LOG_LEVELS)[number];

/** Browser origins allowed to call the API: any (`*`), or exactly these. */
export type CorsOrigins = '*' | readonly string[];

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return /^https?:$/.test(url.protocol) && url.origin === value;
  } catch {
    return false;
  }
}

export interface PasswordHashing {
  readonly memoryKiB: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

export interface Config {
  readonly port: number;
  /**
   * Set: PostgreSQL via postgres.js. Unset: embedded PGlite in `dataDir`. May name several
   * servers (a primary and its standbys: `postgres://u@h1:5432,h2:5432/db`, or DATABASE_URLS):
   * connections go to the one that accepts writes, and follow it when a standby is promoted.
   */
  readonly databaseUrl: string | undefined;
  /**
   * Streaming replicas for history pages and searches (DATABASE_REPLICA_URLS), used for a reader
   * only once they have replayed that reader's own last write; empty: everything on the primary.
   */
  readonly databaseReplicaUrls: readonly string[];
  /**
   * A replica further behind the primary than this is not read from; it is also how long this
   * instance remembers a user's write (a write through another instance is guaranteed to be seen
   * on a replica only once it is older than this).
   */
  readonly databaseReplicaMaxLagMs: number;
  /**
   * Where what needs a session of its own connects: migrations (under a session advisory lock)
   * and the job queue (LISTEN). DATABASE_DIRECT_URL, else `databaseUrl`; undefined when embedded.
   */
  readonly databaseDirectUrl: string | undefined;
  /**
   * `transaction`: `databaseUrl` is a pooler that hands each transaction a server connection of
   * its choice (PgBouncer's pool_mode=transaction), so the pool keeps no session state: no
   * prepared statements, no session settings (the statement timeout comes from the database
   * role or the pooler). `none`: `databaseUrl` is PostgreSQL itself, or a session pooler.
   */
  readonly databasePooler: 'none' | 'transaction';
  readonly dataDir: string;
  /** Unset: pub/sub, presence and rate limits in process (one instance). */
  readonly redis: RedisTopology | undefined;
  /** Prepended to every Redis key and channel, so deployments can share one Redis. */
  readonly redisKeyPrefix: string;
  /**
   * How long a request waits for Redis: past it the call fails over (rate limits to memory,
   * presence fails, /readyz says unreachable). A connection whose PING stays unanswered for
   * max(1 s, 5 × this) is taken as hung and dialled again: a frozen Redis keeps its connections
   * open and silent, so no error would ever come.
   */
  readonly redisCommandTimeoutMs: number;
  readonly jwtSecret: string;
  readonly jwtExpiresIn: string;
  readonly nodeEnv: 'development' | 'production' | 'test';
  readonly logLevel: LogLevel;
  readonly dbStatementTimeoutMs: number;
  readonly dbPoolSize: number;
  /**
   * The embedded database's page cache (PostgreSQL's shared_buffers), resident from the start
   * for the life of the process: PGlite's WebAssembly memory never shrinks. Reads beyond it come
   * from the operating system's file cache.
   */
  readonly embeddedSharedBuffersMb: number;
  /** A WebSocket must send connection_init within this. */
  readonly wsInitTimeoutMs: number;
  /** Ping interval that detects dead WebSocket peers (0: off). */
  readonly wsKeepAliveMs: number;
  /** Outbox rows younger than this are left to the instance that wrote them. */
  readonly outboxGraceMs: number;
  readonly outboxDrainIntervalMs: number;
  /** A connection not renewed (heartbeat every third of this) within this is dead. */
  readonly presenceTtlMs: number;
  /** OFFLINE is announced this long after a user's last connection ends. */
  readonly presenceGraceMs: number;
  /** Schema introspection: on outside production unless GRAPHQL_INTROSPECTION says otherwise. */
  readonly introspection: boolean;
  /** GraphiQL on GET /graphql (Accept: text/html): on outside production unless GRAPHIQL says. */
  readonly graphiql: boolean;
  /** The demo chat page at /: on outside production unless DEMO_PAGE says otherwise. */
  readonly demoPage: boolean;
  /** Scales every rate limit; 0 turns them off (benchmarks). */
  readonly rateLimitMultiplier: number;
  /** Take the client address from X-Forwarded-For (behind a load balancer). */
  readonly trustProxy: boolean;
  /** argon2id cost of new password hashes. */
  readonly passwordHashing: PasswordHashing;
  /**
   * Origins whose browser pages may call the API (CORS). Auth is a bearer header, never a cookie,
   * so `*` leaks nothing a page could not get by other means; outside production it is the
   * default, in production none (same origin only) unless CORS_ORIGINS lists them.
   */
  readonly corsOrigins: CorsOrigins;
  readonly mode: 'embedded' | 'production';
  readonly attachments: AttachmentConfig;
  readonly metrics: MetricsConfig;
  readonly notifications: NotificationConfig;
}

/** Push notifications and webhooks (README "Notifications and webhooks"). */
export interface NotificationConfig {
  /**
   * Web Push keys (VAPID) from the settings. Unset: in embedded mode they are made up and kept in
   * DATA_DIR at start (see vapidKeys); in production push is off.
   */
  readonly vapid: VapidKeys | undefined;
  readonly vapidSubject: string;
  /** How long a message waits for live delivery or a read before it is pushed. */
  readonly pushDelayMs: number;
  /** Whether pushes and undelivered webhooks carry the start of the message body. */
  readonly pushPreview: boolean;
  /** First retry of a push the push service did not take; doubles, up to an hour. */
  readonly pushRetryBaseMs: number;
  readonly webhookUrls: readonly string[];
  /** Standard Webhooks secret (`whsec_…`); set whenever webhookUrls is not empty. */
  readonly webhookSecret: string | undefined;
  /** First retry of a webhook delivery that failed; doubles, up to an hour, for three days. */
  readonly webhookRetryBaseMs: number;
  /** Push and webhook targets on loopback and private networks (SSRF): refused unless true. */
  readonly allowPrivateEndpoints: boolean;
  /** Jobs (pushes, webhooks) one instance runs at once. */
  readonly jobConcurrency: number;
}

export interface VapidKeys {
  readonly publicKey: string;
  readonly privateKey: string;
  readonly subject: string;
}

/** Who may read /metrics (the Prometheus scrape): it tells strangers about traffic and load. */
export interface MetricsConfig {
  /** Set: /metrics is served on its own listener on this port, and not on the public one. */
  readonly port: number | undefined;
  /** Set: every /metrics answers only `Authorization: Bearer <token>` (else 401). */
  readonly token: string | undefined;
  /**
   * Whether the public port serves /metrics: not when it has its own port; otherwise when a
   * token guards it, or outside production (left open on a laptop for convenience).
   */
  readonly onPublicPort: boolean;
}

export interface AttachmentConfig {
  /** Largest upload accepted (bytes); a larger one is cut off while streaming. */
  readonly maxBytes: number;
  /** Where blobs live: a folder under DATA_DIR, or an S3-compatible bucket. */
  readonly storage: 'local' | 's3';
  /** The local store's folder (also where uploads are spooled while they arrive, in any mode). */
  readonly dir: string;
  /** How long a signed download URL stays valid. */
  readonly urlTtlSeconds: number;
  /** Uploads not attached to a message within this are deleted by the sweep. */
  readonly unattachedTtlSeconds: number;
  readonly sweepIntervalMs: number;
  readonly s3: S3Config | undefined;
}

export interface S3Config {
  readonly bucket: string;
  readonly region: string;
  readonly endpoint: string | undefined;
  /** Both set, or neither (then the AWS SDK's default credential chain applies). */
  readonly accessKeyId: string | undefined;
  readonly secretAccessKey: string | undefined;
  readonly forcePathStyle: boolean;
  readonly keyPrefix: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const MIN_SECRET_LENGTH = 32;

/**
 * The VAPID keys to push with: the settings' pair, or in embedded mode the one kept in DATA_DIR
 * (made on first use, like the JWT secret; not in loadConfig, which has no side effects unless a
 * start needs them).
 */
export function vapidKeys(config: Config): VapidKeys | undefined {
  if (config.notifications.vapid) return config.notifications.vapid;
  if (config.mode !== 'embedded') return undefined;
  return Object.freeze({
    ...readOrCreateVapidKeys(config.dataDir),
    subject: config.notifications.vapidSubject,
  });
}

function readOrCreateVapidKeys(dataDir: string): { publicKey: string; privateKey: string } {
  const file = path.join(dataDir, 'vapid-keys.json');
  try {
    const existing = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    if (typeof existing.publicKey === 'string' && typeof existing.privateKey === 'string') {
      return { publicKey: existing.publicKey, privateKey: existing.privateKey };
    }
  } catch {
    // not there yet (or unreadable): create it below
  }
  mkdirSync(dataDir, { recursive: true });
  const keys = webPush.generateVAPIDKeys();
  writeFileSync(file, JSON.stringify(keys) + '\n', { mode: 0o600 });
  return keys;
}

/** The secret kept in DATA_DIR for modes that may generate one (anything but production). */
function readOrCreateSecret(dataDir: string): string {
  const file = path.join(dataDir, 'jwt-secret');
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= MIN_SECRET_LENGTH) return existing;
  } catch {
    // not there yet: create it below
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

const splitUrls = (list: string) =>
  list
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);

/** The URL checked (servers, ports, target_session_attrs), or a ConfigError naming `setting`. */
function checkDatabaseUrl(setting: string, url: string): string {
  const problem = (why: string) => new ConfigError(`Invalid settings:\n  - ${setting}: ${why}`);
  if (!/^postgres(ql)?:\/\//.test(url))
    throw problem('must start with postgres:// or postgresql://');
  try {
    parseDatabaseTargets(url);
  } catch (err) {
    throw problem(`is not a valid URL (${(err as Error).message})`);
  }
  const attrs = /[?&]target_session_attrs=([^&#]*)/.exec(url)?.[1];
  if (attrs !== undefined && attrs !== 'read-write' && attrs !== 'primary') {
    throw problem(
      `target_session_attrs=${attrs} is not supported: Parley writes, so it connects to the server that accepts writes (read-write)`,
    );
  }
  return url;
}

/**
 * DATABASE_URL as given (one server, or several in postgres.js's multi-host form), or
 * DATABASE_URLS (one URL per server, alike but for the server; a comma separates them) joined into that form.
 */
function databaseUrlOf(single: string | undefined, list: string | undefined): string | undefined {
  if (single && list) {
    throw new ConfigError(
      'Invalid settings:\n  - DATABASE_URLS: set DATABASE_URL or DATABASE_URLS, not both',
    );
  }
  if (single) return checkDatabaseUrl('DATABASE_URL', single);
  if (!list) return undefined;
  const targets = splitUrls(list).map((url) =>
    parseDatabaseTargets(checkDatabaseUrl('DATABASE_URLS', url)),
  );
  const first = targets[0];
  if (!first) return undefined;
  // Alike but for the server: the same URL once the server is put in the same place.
  const anyHost = { host: 'h', port: 1 };
  if (targets.some((t) => t.urlFor(anyHost) !== first.urlFor(anyHost))) {
    throw new ConfigError(
      'Invalid settings:\n  - DATABASE_URLS: the URLs must differ only in host and port (same user, password, database and options)',
    );
  }
  return first.urlFor(...targets.map((t) => t.hosts[0]!));
}

/**
 * DATABASE_DIRECT_URL and DATABASE_POOLER, which only mean something with DATABASE_URL. Behind a
 * transaction pooler the direct address is required: a session advisory lock or a LISTEN taken
 * through it would stay on whichever server connection ran it (README "Running at scale").
 */
function poolerSettings(
  e: z.infer<typeof EnvSchema>,
  databaseUrl: string | undefined,
): Pick<Config, 'databaseDirectUrl' | 'databasePooler'> {
  const direct = e.DATABASE_DIRECT_URL || undefined;
  const problems: string[] = [];
  if (!databaseUrl) {
    if (direct) problems.push('DATABASE_DIRECT_URL: only used with DATABASE_URL (set it too)');
    if (e.DATABASE_POOLER !== 'none')
      problems.push('DATABASE_POOLER: only used with DATABASE_URL (set it too)');
  } else if (e.DATABASE_POOLER === 'transaction' && !direct) {
    problems.push(
      "DATABASE_DIRECT_URL: required when DATABASE_POOLER=transaction: PostgreSQL's own address (or a session-mode pool), for migrations and the job queue's LISTEN",
    );
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return { databaseDirectUrl: direct ?? databaseUrl, databasePooler: e.DATABASE_POOLER };
}

/** Credentials for cluster nodes or a Sentinel-managed master; a single server has its URL's. */
function redisAuth(
  url: string | undefined,
  username: string | undefined,
  password: string | undefined,
): RedisAuth | undefined {
  if (!username && !password) return undefined;
  if (url) {
    throw new ConfigError(
      'Invalid settings:\n  - REDIS_USERNAME, REDIS_PASSWORD: with REDIS_URL, put them in the URL (redis://user:password@host:6379)',
    );
  }
  if (!password) {
    throw new ConfigError('Invalid settings:\n  - REDIS_PASSWORD: required with REDIS_USERNAME');
  }
  return Object.freeze(username ? { username, password } : { password });
}

function redisTopology(
  url: string | undefined,
  clusterNodes: readonly HostPort[] | undefined,
  sentinels: readonly HostPort[] | undefined,
  sentinelName: string | undefined,
  auth: RedisAuth | undefined,
): RedisTopology | undefined {
  const given = [
    url && 'REDIS_URL',
    clusterNodes && 'REDIS_CLUSTER_NODES',
    sentinels && 'REDIS_SENTINELS',
  ].filter(Boolean);
  if (given.length > 1) {
    throw new ConfigError(
      `Invalid settings:\n  - ${given.join(', ')}: set only one (a single Redis, a Redis Cluster or Redis Sentinel)`,
    );
  }
  if (Boolean(sentinels) !== Boolean(sentinelName)) {
    throw new ConfigError(
      'Invalid settings:\n  - REDIS_SENTINELS, REDIS_SENTINEL_NAME: set both (the sentinels and the name of the master they watch) or neither',
    );
  }
  const withAuth = auth ? { auth } : {};
  if (url) return Object.freeze({ kind: 'single', url });
  if (clusterNodes) return Object.freeze({ kind: 'cluster', nodes: clusterNodes, ...withAuth });
  if (sentinels && sentinelName) {
    return Object.freeze({ kind: 'sentinel', sentinels, name: sentinelName, ...withAuth });
  }
  if (auth) {
    throw new ConfigError(
      'Invalid settings:\n  - REDIS_PASSWORD: set with REDIS_CLUSTER_NODES or REDIS_SENTINELS (no Redis is configured)',
    );
  }
  return undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  // An empty setting (PORT= in a compose file, say) means "not set", as with any unset variable.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid settings:\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  const databaseUrl = databaseUrlOf(e.DATABASE_URL || undefined, e.DATABASE_URLS || undefined);
  const databaseReplicaUrls = e.DATABASE_REPLICA_URLS
    ? Object.freeze(
        splitUrls(e.DATABASE_REPLICA_URLS).map((url) =>
          checkDatabaseUrl('DATABASE_REPLICA_URLS', url),
        ),
      )
    : Object.freeze([]);
  if (databaseReplicaUrls.length > 0 && !databaseUrl) {
    throw new ConfigError(
      'Invalid settings:\n  - DATABASE_REPLICA_URLS: needs DATABASE_URL (replicas of which primary?)',
    );
  }
  const redisUrl = e.REDIS_URL ? e.REDIS_URL : undefined;
  const { databaseDirectUrl, databasePooler } = poolerSettings(e, databaseUrl);
  const redis = redisTopology(
    redisUrl,
    e.REDIS_CLUSTER_NODES,
    e.REDIS_SENTINELS,
    e.REDIS_SENTINEL_NAME,
    redisAuth(redisUrl, e.REDIS_USERNAME, e.REDIS_PASSWORD),
  );
  const dataDir = path.resolve(e.DATA_DIR);

  let jwtSecret = e.JWT_SECRET?.trim() ?? '';
  if (jwtSecret && jwtSecret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(
      `Invalid settings:\n  - JWT_SECRET: must be at least ${MIN_SECRET_LENGTH} characters`,
    );
  }
  if (!jwtSecret) {
    if (e.NODE_ENV === 'production') {
      throw new ConfigError(
        'Invalid settings:\n  - JWT_SECRET: required when NODE_ENV=production (at least 32 random characters)',
      );
    }
    jwtSecret = readOrCreateSecret(dataDir);
  }

  let s3: S3Config | undefined;
  if (e.ATTACHMENT_STORAGE === 's3') {
    const missing = (['S3_BUCKET', 'S3_REGION'] as const).filter((k) => !e[k]);
    if (missing.length > 0) {
      throw new ConfigError(
        `Invalid settings:\n${missing.map((k) => `  - ${k}: required when ATTACHMENT_STORAGE=s3`).join('\n')}`,
      );
    }
    if (Boolean(e.S3_ACCESS_KEY_ID) !== Boolean(e.S3_SECRET_ACCESS_KEY)) {
      throw new ConfigError(
        'Invalid settings:\n  - S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: set both or neither',
      );
    }
    s3 = Object.freeze({
      bucket: e.S3_BUCKET!,
      region: e.S3_REGION!,
      endpoint: e.S3_ENDPOINT || undefined,
      accessKeyId: e.S3_ACCESS_KEY_ID || undefined,
      secretAccessKey: e.S3_SECRET_ACCESS_KEY || undefined,
      forcePathStyle: e.S3_FORCE_PATH_STYLE === 'true',
      keyPrefix: e.S3_KEY_PREFIX,
    });
  }

  if (e.METRICS_PORT !== undefined && e.METRICS_PORT === e.PORT) {
    throw new ConfigError('Invalid settings:\n  - METRICS_PORT: must differ from PORT');
  }
  const metricsToken = e.METRICS_TOKEN || undefined;

  if (Boolean(e.VAPID_PUBLIC_KEY) !== Boolean(e.VAPID_PRIVATE_KEY)) {
    throw new ConfigError(
      'Invalid settings:\n  - VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY: set both or neither',
    );
  }
  const vapidPair =
    e.VAPID_PUBLIC_KEY && e.VAPID_PRIVATE_KEY
      ? { publicKey: e.VAPID_PUBLIC_KEY, privateKey: e.VAPID_PRIVATE_KEY }
      : undefined;
  const vapidSubject = e.VAPID_SUBJECT ?? 'mailto:admin@localhost';
  const webhookUrls = e.WEBHOOK_URL ?? Object.freeze([]);
  if (webhookUrls.length > 0 && !e.WEBHOOK_SECRET) {
    throw new ConfigError(
      'Invalid settings:\n  - WEBHOOK_SECRET: required when WEBHOOK_URL is set (whsec_ and base64 of 24+ random bytes)',
    );
  }

  return Object.freeze({
    port: e.PORT,
    databaseUrl,
    databaseReplicaUrls,
    databaseReplicaMaxLagMs: e.DATABASE_REPLICA_MAX_LAG_MS,
    databaseDirectUrl,
    databasePooler,
    dataDir,
    redis,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    jwtSecret,
    jwtExpiresIn: e.JWT_EXPIRES_IN.replace(/\s+/g, ''),
    nodeEnv: e.NODE_ENV,
    logLevel: e.LOG_LEVEL ?? (e.NODE_ENV === 'test' ? 'warn' : 'info'),
    dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    dbPoolSize: e.DB_POOL_SIZE,
    embeddedSharedBuffersMb: e.EMBEDDED_SHARED_BUFFERS_MB,
    wsInitTimeoutMs: e.WS_INIT_TIMEOUT_MS,
    wsKeepAliveMs: e.WS_KEEPALIVE_MS,
    outboxGraceMs: e.OUTBOX_GRACE_MS,
    outboxDrainIntervalMs: e.OUTBOX_DRAIN_INTERVAL_MS,
    introspection: e.GRAPHQL_INTROSPECTION
      ? e.GRAPHQL_INTROSPECTION === 'true'
      : e.NODE_ENV !== 'production',
    graphiql: e.GRAPHIQL ? e.GRAPHIQL === 'true' : e.NODE_ENV !== 'production',
    demoPage: e.DEMO_PAGE ? e.DEMO_PAGE === 'true' : e.NODE_ENV !== 'production',
    rateLimitMultiplier: e.RATE_LIMIT_MULTIPLIER,
    trustProxy: e.TRUST_PROXY === 'true',
    passwordHashing: Object.freeze({
      memoryKiB: e.PASSWORD_HASH_MEMORY_KIB,
      timeCost: e.PASSWORD_HASH_TIME_COST,
      parallelism: e.PASSWORD_HASH_PARALLELISM,
    }),
    corsOrigins: e.CORS_ORIGINS ?? (e.NODE_ENV === 'production' ? Object.freeze([]) : '*'),
    presenceTtlMs: e.PRESENCE_TTL_MS,
    presenceGraceMs: e.PRESENCE_GRACE_MS,
    mode: databaseUrl ? 'production' : 'embedded',
    attachments: Object.freeze({
      maxBytes: e.ATTACHMENT_MAX_BYTES,
      storage: e.ATTACHMENT_STORAGE,
      dir: path.join(dataDir, 'attachments'),
      urlTtlSeconds: e.ATTACHMENT_URL_TTL_SECONDS,
      unattachedTtlSeconds: e.ATTACHMENT_UNATTACHED_TTL_SECONDS,
      sweepIntervalMs: e.ATTACHMENT_SWEEP_INTERVAL_MS,
      s3,
    }),
    metrics: Object.freeze({
      port: e.METRICS_PORT,
      token: metricsToken,
      onPublicPort:
        e.METRICS_PORT === undefined && (metricsToken !== undefined || e.NODE_ENV !== 'production'),
    }),
    notifications: Object.freeze({
      vapid: vapidPair ? Object.freeze({ ...vapidPair, subject: vapidSubject }) : undefined,
      vapidSubject,
      pushDelayMs: e.PUSH_DELAY_MS,
      pushPreview: e.PUSH_PREVIEW !== 'false',
      pushRetryBaseMs: e.PUSH_RETRY_BASE_MS,
      webhookUrls,
      webhookSecret: e.WEBHOOK_SECRET,
      webhookRetryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      allowPrivateEndpoints: e.ALLOW_PRIVATE_ENDPOINTS === 'true',
      jobConcurrency: e.JOB_CONCURRENCY,
    }),
  });
}
