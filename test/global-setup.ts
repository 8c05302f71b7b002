/**
 * Vitest globalSetup: starts REAL PostgreSQL and Redis once per run and hands
 * their URLs to the tests via `inject('postgresUrl')` / `inject('redisUrl')`;
 * builds the browser pages (web/dist) if they are missing or stale and hands
 * the Chromium binary to the browser test via `inject('chromiumPath')`, and
 * the PgBouncer binary to the pooler test via `inject('pgbouncerPath')` (that
 * test starts its own, test/support/pgbouncer.ts).
 *
 * When a server binary, PgBouncer or Chromium is missing the value is '' and a loud
 * warning is printed (the suites that need it skip) — except under CI=true,
 * where the run fails instead.
 */
import type { TestProject } from 'vitest/node';
import { ensureWebBuild } from '../scripts/build-web.js';
import { findChromium } from './support/browser.js';
import { findPgbouncer } from './support/pgbouncer.js';
import {
  createTemplateDatabase,
  startPostgres,
  startRedis,
  stopAllServicesSync,
} from './support/services.js';
import type { Service } from './support/services.js';

function banner(lines: readonly string[]): string {
  const width = Math.max(...lines.map((l) => l.length));
  const bar = '!'.repeat(width + 6);
  return ['', bar, ...lines.map((l) => `!! ${l.padEnd(width)} !!`), bar, ''].join('\n');
}

type Missing = { what: string; consequence: string; install: string };

const MISSING_POSTGRES: Missing = {
  what: 'POSTGRES',
  consequence: 'the integration suites against PostgreSQL will not run;',
  install: "install Debian's postgresql package (apt-get install postgresql).",
};

const MISSING_REDIS: Missing = {
  what: 'REDIS',
  consequence: 'the integration suites against Redis will not run;',
  install: "install Debian's redis-server package (apt-get install redis-server).",
};

const MISSING_PGBOUNCER: Missing = {
  what: 'PGBOUNCER',
  consequence: 'the test of Parley behind a transaction pooler will not run;',
  install: "install Debian's pgbouncer package (apt-get install pgbouncer).",
};

const MISSING_CHROMIUM: Missing = {
  what: 'CHROMIUM',
  consequence: 'the browser test of the demo page will not run;',
  install: "install Debian's chromium package (apt-get install chromium).",
};

/** Warns loudly about missing servers; under CI=true, throws instead. */
function reportMissing(missing: readonly Missing[]): void {
  if (missing.length === 0) return;
  if (process.env.CI === 'true') {
    throw new Error(
      'CI=true and real test services are missing:\n' +
        missing.map((m) => `REAL ${m.what} NOT FOUND: ${m.consequence} ${m.install}`).join('\n'),
    );
  }
  for (const m of missing) {
    const lines = [
      `REAL ${m.what} NOT FOUND:`,
      m.consequence,
      m.install,
      'Those tests are SKIPPED in this run (with CI=true this is an error).',
    ];
    process.stderr.write(`${banner(lines)}\n`);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Before the servers start: a failed build has nothing to clean up. About 3 s when stale,
  // nothing when web/dist matches its sources.
  if (ensureWebBuild({ quiet: true }) === 'no-vite') throw new Error('vite is not installed');
  const chromiumPath = findChromium();
  const pgbouncerPath = findPgbouncer();
  const [pgResult, redisResult] = await Promise.allSettled([startPostgres(), startRedis()]);
  const started: Service[] = [];
  if (pgResult.status === 'fulfilled' && pgResult.value) started.push(pgResult.value);
  if (redisResult.status === 'fulfilled' && redisResult.value) started.push(redisResult.value);
  const stopAll = () => Promise.allSettled(started.map((s) => s.stop())).then(() => undefined);

  // Startup errors are always fatal (an installed but broken server is a bug).
  const errors = [pgResult, redisResult]
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => (r.reason instanceof Error ? r.reason.message : String(r.reason)));
  try {
    if (errors.length > 0)
      throw new Error(`could not start test services:\n${errors.join('\n\n')}`);
    const missing: Missing[] = [];
    if (pgResult.status === 'fulfilled' && !pgResult.value) missing.push(MISSING_POSTGRES);
    if (redisResult.status === 'fulfilled' && !redisResult.value) missing.push(MISSING_REDIS);
    if (!chromiumPath) missing.push(MISSING_CHROMIUM);
    if (!pgbouncerPath) missing.push(MISSING_PGBOUNCER);
    reportMissing(missing);
    // Migrated once here; each test database is a copy of it (createDatabase).
    if (pgResult.status === 'fulfilled' && pgResult.value) {
      await createTemplateDatabase(pgResult.value.url);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }

  const postgres = pgResult.status === 'fulfilled' ? pgResult.value : null;
  const redis = redisResult.status === 'fulfilled' ? redisResult.value : null;
  project.provide('postgresUrl', postgres?.url ?? '');
  project.provide('redisUrl', redis?.url ?? '');
  project.provide('chromiumPath', chromiumPath ?? '');
  project.provide('pgbouncerPath', pgbouncerPath ?? '');

  // Best effort on Ctrl-C / kill: vitest exits right after its own signal
  // handler, so the cleanup has to be synchronous. If nobody else handles the
  // signal, re-raise it so the default action (terminate) still happens.
  const onSignal = (signal: NodeJS.Signals) => {
    stopAllServicesSync();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  return async function teardown() {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopAll();
  };
}
