import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it, expect } from 'vitest';
import { ConfigError, loadConfig, vapidKeys } from '../../src/config.js';

const SECRET = 'unit-test-secret-0123456789abcdefghij';

/** The ConfigError that loading `env` throws. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  let thrown: unknown;
  try {
    loadConfig(env);
  } catch (err) {
    thrown = err;
  }
  expect(thrown, 'expected loadConfig to throw').toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-config-'));
  tempDirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('loadConfig defaults', () => {
  it('starts embedded on port 4000 with nothing but a secret set', () => {
    const config = loadConfig({ JWT_SECRET: SECRET });
    expect(config.port).toBe(4000);
    expect(config.mode).toBe('embedded');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redis).toBeUndefined();
    expect(config.nodeEnv).toBe('development');
    expect(config.logLevel).toBe('info');
    expect(config.jwtSecret).toBe(SECRET);
  });

  it('resolves the default data folder to an absolute ./.parley', () => {
    const { dataDir } = loadConfig({ JWT_SECRET: SECRET });
    expect(path.isAbsolute(dataDir)).toBe(true);
    expect(dataDir).toBe(path.resolve('.parley'));
  });

  it('resolves a relative DATA_DIR against the working directory', () => {
    expect(loadConfig({ JWT_SECRET: SECRET, DATA_DIR: 'var/parley' }).dataDir).toBe(
      path.resolve('var/parley'),
    );
  });

  it('treats an empty DATABASE_URL as unset (embedded)', () => {
    const config = loadConfig({ JWT_SECRET: SECRET, DATABASE_URL: '' });
    expect(config.mode).toBe('embedded');
    expect(config.databaseUrl).toBeUndefined();
  });

  it('is quieter under NODE_ENV=test', () => {
    expect(loadConfig({ JWT_SECRET: SECRET, NODE_ENV: 'test' }).logLevel).toBe('warn');
  });

  it('is frozen', () => {
    const config = loadConfig({ JWT_SECRET: SECRET });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.port).toBe(4000);
  });
});

describe('loadConfig settings', () => {
  it('reads PORT, LOG_LEVEL and a postgres:// DATABASE_URL (production mode)', () => {
    const config = loadConfig({
      JWT_SECRET: SECRET,
      PORT: '8080',
      LOG_LEVEL: 'debug',
      DATABASE_URL: 'postgres://parley:pw@db.internal:5432/parley',
      REDIS_URL: 'redis://cache.internal:6379',
      NODE_ENV: 'production',
    });
    expect(config.port).toBe(8080);
    expect(config.logLevel).toBe('debug');
    expect(config.mode).toBe('production');
    expect(config.databaseUrl).toBe('postgres://parley:pw@db.internal:5432/parley');
    expect(config.redis).toEqual({ kind: 'single', url: 'redis://cache.internal:6379' });
    expect(config.nodeEnv).toBe('production');
  });

  it('serves GraphiQL and the demo page outside production, and in production only when enabled', () => {
    expect(loadConfig({ JWT_SECRET: SECRET })).toMatchObject({ graphiql: true, demoPage: true });
    const production = { JWT_SECRET: SECRET, NODE_ENV: 'production' };
    expect(loadConfig(production)).toMatchObject({ graphiql: false, demoPage: false });
    expect(loadConfig({ ...production, GRAPHIQL: 'true', DEMO_PAGE: 'true' })).toMatchObject({
      graphiql: true,
      demoPage: true,
    });
    expect(loadConfig({ JWT_SECRET: SECRET, GRAPHIQL: 'false', DEMO_PAGE: 'false' })).toMatchObject(
      { graphiql: false, demoPage: false },
    );
    expect(configError({ JWT_SECRET: SECRET, GRAPHIQL: 'yes' }).message).toContain('GRAPHIQL');
    expect(configError({ JWT_SECRET: SECRET, DEMO_PAGE: '1' }).message).toContain('DEMO_PAGE');
  });

  it('accepts postgresql:// as well', () => {
    expect(
      loadConfig({ JWT_SECRET: SECRET, DATABASE_URL: 'postgresql://localhost/parley' }).mode,
    ).toBe('production');
  });

  it.each(['abc', '70000', '65536', '-1', '80.5'])('rejects PORT=%s, naming PORT', (PORT) => {
    const error = configError({ JWT_SECRET: SECRET, PORT });
    expect(error.message).toContain('PORT');
    expect(error.name).toBe('ConfigError');
  });

  it.each(['mysql://localhost/parley', 'http://localhost:5432/parley', 'localhost:5432/parley'])(
    'rejects DATABASE_URL=%s, naming DATABASE_URL',
    (DATABASE_URL) => {
      expect(configError({ JWT_SECRET: SECRET, DATABASE_URL }).message).toContain('DATABASE_URL');
    },
  );

  it('rejects a REDIS_URL that is not redis://, naming REDIS_URL', () => {
    expect(configError({ JWT_SECRET: SECRET, REDIS_URL: 'http://cache:6379' }).message).toContain(
      'REDIS_URL',
    );
  });

  it('rejects an unknown LOG_LEVEL and lists the valid ones', () => {
    const { message } = configError({ JWT_SECRET: SECRET, LOG_LEVEL: 'loud' });
    expect(message).toContain('LOG_LEVEL');
    expect(message).toContain('debug');
  });

  it('rejects an unknown NODE_ENV, naming NODE_ENV', () => {
    expect(configError({ JWT_SECRET: SECRET, NODE_ENV: 'staging' }).message).toContain('NODE_ENV');
  });

  it('reports every bad setting at once', () => {
    const { message } = configError({ JWT_SECRET: SECRET, PORT: 'abc', LOG_LEVEL: 'loud' });
    expect(message).toContain('PORT');
    expect(message).toContain('LOG_LEVEL');
  });
});

describe('DATABASE_POOLER and DATABASE_DIRECT_URL', () => {
  const pooled = 'postgres://parley@pgbouncer.internal:6432/parley';
  const direct = 'postgres://parley@db.internal:5432/parley';

  it('connect everything to DATABASE_URL, with no pooler, unless set', () => {
    const config = loadConfig({ JWT_SECRET: SECRET, DATABASE_URL: direct });
    expect(config.databasePooler).toBe('none');
    expect(config.databaseDirectUrl).toBe(direct);
    const embedded = loadConfig({ JWT_SECRET: SECRET });
    expect(embedded.databasePooler).toBe('none');
    expect(embedded.databaseDirectUrl).toBeUndefined();
  });

  it('take a transaction pooler with the direct address beside it', () => {
    const config = loadConfig({
      JWT_SECRET: SECRET,
      DATABASE_URL: pooled,
      DATABASE_POOLER: 'transaction',
      DATABASE_DIRECT_URL: direct,
    });
    expect(config.databaseUrl).toBe(pooled);
    expect(config.databaseDirectUrl).toBe(direct);
    expect(config.databasePooler).toBe('transaction');
    // A direct address without a pooler (a session pooler in front, say) is taken as well.
    expect(
      loadConfig({ JWT_SECRET: SECRET, DATABASE_URL: pooled, DATABASE_DIRECT_URL: direct })
        .databaseDirectUrl,
    ).toBe(direct);
  });

  it('require the direct address behind a transaction pooler, saying what it is for', () => {
    const { message } = configError({
      JWT_SECRET: SECRET,
      DATABASE_URL: pooled,
      DATABASE_POOLER: 'transaction',
    });
    expect(message).toContain('DATABASE_DIRECT_URL: required when DATABASE_POOLER=transaction');
    expect(message).toContain('LISTEN');
  });

  it('name an unknown pooler mode, a direct address that is not postgres://, and either without DATABASE_URL', () => {
    expect(
      configError({ JWT_SECRET: SECRET, DATABASE_URL: direct, DATABASE_POOLER: 'statement' })
        .message,
    ).toContain('DATABASE_POOLER must be none or transaction');
    expect(
      configError({ JWT_SECRET: SECRET, DATABASE_URL: pooled, DATABASE_DIRECT_URL: 'db:5432' })
        .message,
    ).toContain('DATABASE_DIRECT_URL must start with postgres://');
    const { message } = configError({
      JWT_SECRET: SECRET,
      DATABASE_POOLER: 'transaction',
      DATABASE_DIRECT_URL: direct,
    });
    expect(message).toContain('DATABASE_DIRECT_URL: only used with DATABASE_URL');
    expect(message).toContain('DATABASE_POOLER: only used with DATABASE_URL');
  });
});

describe('EMBEDDED_SHARED_BUFFERS_MB', () => {
  it('gives the embedded database 16 MB of page cache unless set', () => {
    expect(loadConfig({ JWT_SECRET: SECRET }).embeddedSharedBuffersMb).toBe(16);
    const config = loadConfig({ JWT_SECRET: SECRET, EMBEDDED_SHARED_BUFFERS_MB: '128' });
    expect(config.embeddedSharedBuffersMb).toBe(128);
  });

  it('names a value that is not a whole number of megabytes, or more than PGlite can hold', () => {
    for (const value of ['lots', '0', '1.5', '4096']) {
      const { message } = configError({ JWT_SECRET: SECRET, EMBEDDED_SHARED_BUFFERS_MB: value });
      expect(message).toContain('EMBEDDED_SHARED_BUFFERS_MB');
    }
  });
});

describe('PASSWORD_HASH_*', () => {
  it("hashes at argon2's own cost unless set, and takes a lighter or heavier one", () => {
    expect(loadConfig({ JWT_SECRET: SECRET }).passwordHashing).toEqual({
      memoryKiB: 65_536,
      timeCost: 3,
      parallelism: 4,
    });
    const config = loadConfig({
      JWT_SECRET: SECRET,
      PASSWORD_HASH_MEMORY_KIB: '19456',
      PASSWORD_HASH_TIME_COST: '2',
      PASSWORD_HASH_PARALLELISM: '1',
    });
    expect(config.passwordHashing).toEqual({ memoryKiB: 19_456, timeCost: 2, parallelism: 1 });
  });

  it('names a cost argon2 cannot take', () => {
    for (const [name, value] of [
      ['PASSWORD_HASH_MEMORY_KIB', '8'],
      ['PASSWORD_HASH_TIME_COST', '0'],
      ['PASSWORD_HASH_PARALLELISM', 'many'],
    ] as const) {
      expect(configError({ JWT_SECRET: SECRET, [name]: value }).message).toContain(name);
    }
  });
});

describe('loadConfig JWT_SECRET', () => {
  it('is required under NODE_ENV=production and is never generated there', () => {
    const dataDir = tempDir();
    for (const JWT_SECRET of [undefined, '', '   ']) {
      const error = configError({ NODE_ENV: 'production', DATA_DIR: dataDir, JWT_SECRET });
      expect(error.message).toContain('JWT_SECRET');
    }
    expect(existsSync(path.join(dataDir, 'jwt-secret'))).toBe(false);
  });

  it('rejects a secret shorter than 32 characters, in any mode', () => {
    for (const NODE_ENV of ['development', 'production']) {
      const error = configError({ NODE_ENV, JWT_SECRET: 'x'.repeat(31) });
      expect(error.message).toContain('JWT_SECRET');
      expect(error.message).toContain('32');
    }
  });

  it('does not count surrounding whitespace towards the length', () => {
    expect(configError({ JWT_SECRET: `  ${'x'.repeat(31)}  ` }).message).toContain('JWT_SECRET');
  });

  it('accepts a 32-character secret', () => {
    const secret = 'y'.repeat(32);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret }).jwtSecret).toBe(secret);
  });

  it('outside production, generates one into DATA_DIR/jwt-secret and keeps it', () => {
    const dataDir = path.join(tempDir(), 'nested', 'data');
    const first = loadConfig({ DATA_DIR: dataDir });
    expect(first.jwtSecret.length).toBeGreaterThanOrEqual(32);

    const file = path.join(dataDir, 'jwt-secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(first.jwtSecret);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const second = loadConfig({ DATA_DIR: dataDir });
    expect(second.jwtSecret).toBe(first.jwtSecret);
  });

  it('generates a different secret for a different data folder', () => {
    const a = loadConfig({ NODE_ENV: 'test', DATA_DIR: tempDir() }).jwtSecret;
    const b = loadConfig({ NODE_ENV: 'test', DATA_DIR: tempDir() }).jwtSecret;
    expect(a).not.toBe(b);
  });

  it('prefers an explicit JWT_SECRET over the stored one', () => {
    const dataDir = tempDir();
    const generated = loadConfig({ DATA_DIR: dataDir }).jwtSecret;
    expect(loadConfig({ DATA_DIR: dataDir, JWT_SECRET: SECRET }).jwtSecret).toBe(SECRET);
    expect(loadConfig({ DATA_DIR: dataDir }).jwtSecret).toBe(generated);
  });
});

describe('empty settings', () => {
  it('treats an empty PORT (PORT= in a compose file) as unset: the default 4000', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-config-'));
    try {
      expect(loadConfig({ PORT: '', DATA_DIR: dir, JWT_SECRET: SECRET }).port).toBe(4000);
      expect(loadConfig({ PORT: '  ', DATA_DIR: dir, JWT_SECRET: SECRET }).port).toBe(4000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('attachment settings', () => {
  it('default to 10 MiB uploads in a folder under DATA_DIR, URLs valid 15 minutes, a daily sweep', () => {
    const dataDir = tempDir();
    const { attachments } = loadConfig({ JWT_SECRET: SECRET, DATA_DIR: dataDir });
    expect(attachments).toMatchObject({
      maxBytes: 10 * 1024 * 1024,
      storage: 'local',
      dir: path.join(dataDir, 'attachments'),
      urlTtlSeconds: 900,
      unattachedTtlSeconds: 86_400,
    });
    expect(attachments.s3).toBeUndefined();
  });

  it('selects S3 with its bucket, region, endpoint and keys', () => {
    const { attachments } = loadConfig({
      JWT_SECRET: SECRET,
      ATTACHMENT_STORAGE: 's3',
      ATTACHMENT_MAX_BYTES: '2048',
      S3_BUCKET: 'parley-files',
      S3_REGION: 'eu-west-1',
      S3_ENDPOINT: 'http://minio:9000',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret',
      S3_FORCE_PATH_STYLE: 'true',
    });
    expect(attachments.storage).toBe('s3');
    expect(attachments.maxBytes).toBe(2048);
    expect(attachments.s3).toEqual({
      bucket: 'parley-files',
      region: 'eu-west-1',
      endpoint: 'http://minio:9000',
      accessKeyId: 'id',
      secretAccessKey: 'secret',
      forcePathStyle: true,
      keyPrefix: 'attachments/',
    });
  });

  it('names what S3 storage is missing, and half a key pair', () => {
    const missing = configError({ JWT_SECRET: SECRET, ATTACHMENT_STORAGE: 's3' }).message;
    expect(missing).toContain('S3_BUCKET');
    expect(missing).toContain('S3_REGION');
    const half = configError({
      JWT_SECRET: SECRET,
      ATTACHMENT_STORAGE: 's3',
      S3_BUCKET: 'b',
      S3_REGION: 'r',
      S3_ACCESS_KEY_ID: 'id',
    }).message;
    expect(half).toContain('S3_SECRET_ACCESS_KEY');
  });

  it('rejects an unknown storage and a size that is not a number, naming them', () => {
    expect(configError({ JWT_SECRET: SECRET, ATTACHMENT_STORAGE: 'ftp' }).message).toContain(
      'ATTACHMENT_STORAGE',
    );
    expect(configError({ JWT_SECRET: SECRET, ATTACHMENT_MAX_BYTES: '10MB' }).message).toContain(
      'ATTACHMENT_MAX_BYTES',
    );
  });
});

describe('CORS_ORIGINS', () => {
  it('lets any origin call outside production, and none in production unless listed', () => {
    expect(loadConfig({ JWT_SECRET: SECRET }).corsOrigins).toBe('*');
    expect(loadConfig({ JWT_SECRET: SECRET, NODE_ENV: 'production' }).corsOrigins).toEqual([]);
    expect(
      loadConfig({
        JWT_SECRET: SECRET,
        NODE_ENV: 'production',
        CORS_ORIGINS: 'https://chat.example.com, http://localhost:5173',
      }).corsOrigins,
    ).toEqual(['https://chat.example.com', 'http://localhost:5173']);
    expect(
      loadConfig({ JWT_SECRET: SECRET, NODE_ENV: 'production', CORS_ORIGINS: '*' }).corsOrigins,
    ).toBe('*');
  });

  it('names a value that is not an origin', () => {
    for (const bad of [
      'chat.example.com',
      'https://chat.example.com/',
      'ftp://x.example',
      '*.example.com',
    ]) {
      const message = configError({ JWT_SECRET: SECRET, CORS_ORIGINS: bad }).message;
      expect(message).toContain('CORS_ORIGINS');
      expect(message).toContain(bad);
    }
  });
});

describe('METRICS_PORT and METRICS_TOKEN', () => {
  const TOKEN = 'metrics-token-0123456789';

  it('leave /metrics on the public port outside production, and off it in production', () => {
    expect(loadConfig({ JWT_SECRET: SECRET }).metrics).toEqual({
      port: undefined,
      token: undefined,
      onPublicPort: true,
    });
    expect(loadConfig({ JWT_SECRET: SECRET, NODE_ENV: 'production' }).metrics.onPublicPort).toBe(
      false,
    );
  });

  it('a token puts it back on the public port in production; a port of its own takes it off', () => {
    const guarded = loadConfig({
      JWT_SECRET: SECRET,
      NODE_ENV: 'production',
      METRICS_TOKEN: TOKEN,
    });
    expect(guarded.metrics).toEqual({ port: undefined, token: TOKEN, onPublicPort: true });
    const apart = loadConfig({ JWT_SECRET: SECRET, METRICS_PORT: '9464', METRICS_TOKEN: TOKEN });
    expect(apart.metrics).toEqual({ port: 9464, token: TOKEN, onPublicPort: false });
  });

  it('names a short token, a port out of range, and a port equal to PORT', () => {
    expect(configError({ JWT_SECRET: SECRET, METRICS_TOKEN: 'short' }).message).toMatch(
      /METRICS_TOKEN: METRICS_TOKEN must be at least 16 characters/,
    );
    expect(configError({ JWT_SECRET: SECRET, METRICS_PORT: '70000' }).message).toMatch(
      /METRICS_PORT: METRICS_PORT must be between 1 and 65535/,
    );
    expect(configError({ JWT_SECRET: SECRET, PORT: '9000', METRICS_PORT: '9000' }).message).toMatch(
      /METRICS_PORT: must differ from PORT/,
    );
  });
});

describe('notification settings', () => {
  const keys = {
    VAPID_PUBLIC_KEY:
      'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM',
    VAPID_PRIVATE_KEY: 'oUQkqPJQ3DSQFCpNt7Xy3JvJmIYY4Eqh7vMzxVpMfGQ',
  };

  it('keeps made-up VAPID keys in the data folder in embedded mode, only once a server needs them', () => {
    const dir = tempDir();
    const config = loadConfig({ JWT_SECRET: SECRET, DATA_DIR: dir });
    expect(config.notifications.vapid).toBeUndefined();
    expect(existsSync(path.join(dir, 'vapid-keys.json'))).toBe(false);
    const first = vapidKeys(config)!;
    expect(Buffer.from(first.publicKey, 'base64url')).toHaveLength(65);
    expect(statSync(path.join(dir, 'vapid-keys.json')).mode & 0o777).toBe(0o600);
    expect(vapidKeys(loadConfig({ JWT_SECRET: SECRET, DATA_DIR: dir }))).toEqual(first);
  });

  it('has no VAPID keys in production unless they are set, and takes the pair given', () => {
    const production = { JWT_SECRET: SECRET, DATABASE_URL: 'postgres://db/parley' };
    expect(vapidKeys(loadConfig(production))).toBeUndefined();
    const config = loadConfig({ ...production, ...keys, VAPID_SUBJECT: 'mailto:ops@example.com' });
    expect(vapidKeys(config)).toEqual({
      publicKey: keys.VAPID_PUBLIC_KEY,
      privateKey: keys.VAPID_PRIVATE_KEY,
      subject: 'mailto:ops@example.com',
    });
  });

  it('names each bad notification setting', () => {
    expect(
      configError({ JWT_SECRET: SECRET, VAPID_PUBLIC_KEY: keys.VAPID_PUBLIC_KEY }).message,
    ).toMatch(/VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY: set both or neither/);
    expect(configError({ JWT_SECRET: SECRET, VAPID_SUBJECT: 'ops@example.com' }).message).toMatch(
      /VAPID_SUBJECT/,
    );
    expect(
      configError({ JWT_SECRET: SECRET, WEBHOOK_URL: 'https://hooks.example.com/a' }).message,
    ).toMatch(/WEBHOOK_SECRET: required when WEBHOOK_URL is set/);
    expect(
      configError({ JWT_SECRET: SECRET, WEBHOOK_URL: 'https://ok.example.com,ftp://x' }).message,
    ).toMatch(/"ftp:\/\/x" is not an http\(s\) URL/);
    expect(configError({ JWT_SECRET: SECRET, PUSH_DELAY_MS: '-1' }).message).toMatch(
      /PUSH_DELAY_MS must be at least 0/,
    );
  });

  it('reads a list of webhook endpoints, without repeats', () => {
    const config = loadConfig({
      JWT_SECRET: SECRET,
      WEBHOOK_URL: 'https://a.example.com/h, https://b.example.com/h,https://a.example.com/h',
      WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    });
    expect(config.notifications.webhookUrls).toEqual([
      'https://a.example.com/h',
      'https://b.example.com/h',
    ]);
    expect(config.notifications.allowPrivateEndpoints).toBe(false);
  });
});

describe('several database servers and read replicas', () => {
  it('takes a multi-host DATABASE_URL as it is', () => {
    const url = 'postgres://parley:pw@db1:5432,db2:5433/parley?target_session_attrs=read-write';
    const config = loadConfig({ JWT_SECRET: SECRET, DATABASE_URL: url });
    expect(config.databaseUrl).toBe(url);
    expect(config.mode).toBe('production');
    expect(config.databaseReplicaUrls).toEqual([]);
    expect(config.databaseReplicaMaxLagMs).toBe(1_000);
  });

  it('joins DATABASE_URLS (one server each) into one multi-host URL', () => {
    const config = loadConfig({
      JWT_SECRET: SECRET,
      DATABASE_URLS:
        'postgres://parley:pw@db1:5432/parley?sslmode=require, postgres://parley:pw@db2/parley?sslmode=require',
    });
    expect(config.databaseUrl).toBe(
      'postgres://parley:pw@db1:5432,db2:5432/parley?sslmode=require',
    );
  });

  it.each([
    [
      { DATABASE_URLS: 'postgres://a@db1/parley,postgres://b@db2/parley' },
      'DATABASE_URLS: the URLs must differ only in host and port',
    ],
    [
      { DATABASE_URLS: 'postgres://db1/parley,postgres://db2/other' },
      'DATABASE_URLS: the URLs must differ only in host and port',
    ],
    [
      { DATABASE_URL: 'postgres://db1/p', DATABASE_URLS: 'postgres://db1/p,postgres://db2/p' },
      'not both',
    ],
    [
      { DATABASE_URL: 'postgres://db1,db2/parley?target_session_attrs=read-only' },
      'DATABASE_URL: target_session_attrs=read-only is not supported',
    ],
    [{ DATABASE_URL: 'postgres://db1:99999,db2/parley' }, 'DATABASE_URL: is not a valid URL'],
    [{ DATABASE_URL: 'postgres://db1,,db2/parley' }, 'DATABASE_URL: is not a valid URL'],
    [
      { DATABASE_REPLICA_URLS: 'postgres://replica1/parley' },
      'DATABASE_REPLICA_URLS: needs DATABASE_URL',
    ],
    [
      { DATABASE_URL: 'postgres://db1/p', DATABASE_REPLICA_URLS: 'mysql://replica1/p' },
      'DATABASE_REPLICA_URLS: must start with postgres://',
    ],
    [
      { DATABASE_URL: 'postgres://db1/p', DATABASE_REPLICA_MAX_LAG_MS: '10' },
      'DATABASE_REPLICA_MAX_LAG_MS must be at least 100',
    ],
  ])('rejects %j, saying %s', (env, message) => {
    expect(configError({ JWT_SECRET: SECRET, ...env }).message).toContain(message);
  });

  it('reads DATABASE_REPLICA_URLS (comma-separated) and DATABASE_REPLICA_MAX_LAG_MS', () => {
    const config = loadConfig({
      JWT_SECRET: SECRET,
      DATABASE_URL: 'postgres://db1/parley',
      DATABASE_REPLICA_URLS: 'postgres://r1:5432/parley, postgres://r2:5433/parley',
      DATABASE_REPLICA_MAX_LAG_MS: '2500',
    });
    expect(config.databaseReplicaUrls).toEqual([
      'postgres://r1:5432/parley',
      'postgres://r2:5433/parley',
    ]);
    expect(config.databaseReplicaMaxLagMs).toBe(2_500);
  });
});

describe('Redis topology (REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS)', () => {
  it('is none without Redis settings, and a single server with REDIS_URL', () => {
    expect(loadConfig({ JWT_SECRET: SECRET }).redis).toBeUndefined();
    const config = loadConfig({ JWT_SECRET: SECRET, REDIS_URL: 'redis://cache.internal:6379' });
    expect(config.redis).toEqual({ kind: 'single', url: 'redis://cache.internal:6379' });
  });

  it('reads cluster seeds as host:port, spaces and IPv6 brackets allowed', () => {
    const config = loadConfig({
      JWT_SECRET: SECRET,
      REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-2.internal:7001,[::1]:7002',
    });
    expect(config.redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-2.internal', port: 7001 },
        { host: '::1', port: 7002 },
      ],
    });
  });

  it('reads sentinels and the master name together', () => {
    const config = loadConfig({
      JWT_SECRET: SECRET,
      REDIS_SENTINELS: 's1:26379,s2:26379,s3:26379',
      REDIS_SENTINEL_NAME: 'parley-master',
    });
    expect(config.redis).toEqual({
      kind: 'sentinel',
      name: 'parley-master',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
        { host: 's3', port: 26379 },
      ],
    });
  });

  it('names the entry that is not host:port', () => {
    for (const bad of [
      '10.0.0.1',
      'redis://10.0.0.1:7000',
      '10.0.0.1:0',
      'a:70000',
      'a:7000,,b:7001',
    ]) {
      const message = configError({ JWT_SECRET: SECRET, REDIS_CLUSTER_NODES: bad }).message;
      expect(message, bad).toContain('REDIS_CLUSTER_NODES');
      expect(message, bad).toContain('is not host:port');
    }
    expect(
      configError({ JWT_SECRET: SECRET, REDIS_SENTINELS: 's1', REDIS_SENTINEL_NAME: 'm' }).message,
    ).toContain('REDIS_SENTINELS');
  });

  it('refuses two topologies at once, and sentinels without a master name (or the reverse)', () => {
    expect(
      configError({
        JWT_SECRET: SECRET,
        REDIS_URL: 'redis://a:6379',
        REDIS_CLUSTER_NODES: 'b:7000',
      }).message,
    ).toMatch(/REDIS_URL, REDIS_CLUSTER_NODES: set only one/);
    expect(
      configError({
        JWT_SECRET: SECRET,
        REDIS_CLUSTER_NODES: 'b:7000',
        REDIS_SENTINELS: 's:26379',
        REDIS_SENTINEL_NAME: 'm',
      }).message,
    ).toMatch(/set only one/);
    expect(configError({ JWT_SECRET: SECRET, REDIS_SENTINELS: 's:26379' }).message).toContain(
      'REDIS_SENTINEL_NAME',
    );
    expect(configError({ JWT_SECRET: SECRET, REDIS_SENTINEL_NAME: 'm' }).message).toContain(
      'REDIS_SENTINELS',
    );
    expect(
      configError({ JWT_SECRET: SECRET, REDIS_SENTINELS: 's:1', REDIS_SENTINEL_NAME: 'bad name' })
        .message,
    ).toContain('REDIS_SENTINEL_NAME');
  });

  it('passes REDIS_USERNAME and REDIS_PASSWORD to cluster nodes or the Sentinel-managed master', () => {
    const cluster = loadConfig({
      JWT_SECRET: SECRET,
      REDIS_CLUSTER_NODES: 'a:7000',
      REDIS_USERNAME: 'parley',
      REDIS_PASSWORD: 's3cret with spaces',
    });
    expect(cluster.redis).toMatchObject({
      kind: 'cluster',
      auth: { username: 'parley', password: 's3cret with spaces' },
    });
    const sentinel = loadConfig({
      JWT_SECRET: SECRET,
      REDIS_SENTINELS: 's:26379',
      REDIS_SENTINEL_NAME: 'm',
      REDIS_PASSWORD: 'pw',
    });
    expect(sentinel.redis).toMatchObject({ kind: 'sentinel', auth: { password: 'pw' } });
    expect(
      loadConfig({ JWT_SECRET: SECRET, REDIS_CLUSTER_NODES: 'a:7000' }).redis,
    ).not.toHaveProperty('auth');
  });

  it('refuses credentials it would not use, and never repeats the password in the error', () => {
    const withUrl = configError({
      JWT_SECRET: SECRET,
      REDIS_URL: 'redis://a:6379',
      REDIS_PASSWORD: 'do-not-print-me',
    }).message;
    expect(withUrl).toContain('put them in the URL');
    expect(withUrl).not.toContain('do-not-print-me');
    const alone = configError({ JWT_SECRET: SECRET, REDIS_PASSWORD: 'do-not-print-me' }).message;
    expect(alone).toContain('REDIS_PASSWORD');
    expect(alone).not.toContain('do-not-print-me');
    expect(
      configError({ JWT_SECRET: SECRET, REDIS_CLUSTER_NODES: 'a:7000', REDIS_USERNAME: 'u' })
        .message,
    ).toContain('REDIS_PASSWORD: required with REDIS_USERNAME');
  });
});
