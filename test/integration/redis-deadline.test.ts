// Deadlines on a real Redis (realtime/redis-deadline.ts): an answer that arrived while the
// process was busy is not taken for a hung Redis, and a connection to a frozen Redis (SIGSTOP,
// on a Redis of this file's own) fails calls at once once it is found hung, and works again by
// itself after SIGCONT.
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import {
  DeadlineError,
  guardRedis,
  RedisUnavailableError,
  withDeadline,
} from '../../src/realtime/redis-deadline.js';
import { startRedis, type Service } from '../support/services.js';

const redisUrl = inject('redisUrl');
const logger = createLogger('silent');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const clients: Redis[] = [];
const ownServices: Service[] = [];
let frozenPid: number | undefined;
afterAll(async () => {
  if (frozenPid !== undefined) process.kill(frozenPid, 'SIGCONT');
  for (const c of clients) c.disconnect();
  await Promise.allSettled(ownServices.map((s) => s.stop()));
});

function client(url: string): Redis {
  const c = new Redis(url, { enableOfflineQueue: false, autoResendUnfulfilledCommands: false });
  clients.push(c);
  return c;
}

describe.skipIf(!redisUrl)('Redis deadlines', () => {
  it('a call with no answer rejects with DeadlineError at its deadline', async () => {
    const started = performance.now();
    await expect(withDeadline(new Promise(() => {}), 50, 'nothing')).rejects.toBeInstanceOf(
      DeadlineError,
    );
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('an answer that came while the event loop was blocked past the deadline still counts', async () => {
    const redis = client(redisUrl);
    await new Promise((resolve) => redis.once('ready', resolve));
    const answered = withDeadline(redis.ping(), 50, 'ping');
    // The PONG reaches the socket while this process is busy; the deadline passes meanwhile.
    const until = performance.now() + 500;
    while (performance.now() < until) {
      // busy
    }
    await expect(answered).resolves.toBe('PONG');
  });

  it('finds a frozen Redis, fails calls at once while it is frozen, and recovers after SIGCONT', async () => {
    const own = (await startRedis())!;
    ownServices.push(own);
    const redis = client(own.url);
    await new Promise((resolve) => redis.once('ready', resolve));
    const guard = guardRedis(redis, { name: 'test', deadlineMs: 100, logger });
    try {
      expect(await guard.run('ping', () => redis.ping())).toBe('PONG');

      process.kill(own.pid, 'SIGSTOP');
      frozenPid = own.pid;
      // Before it is found hung, a call waits out the deadline; afterwards none waits at all.
      await expect(guard.run('ping', () => redis.ping())).rejects.toBeInstanceOf(DeadlineError);
      const deadline = Date.now() + 5_000;
      for (;;) {
        const started = performance.now();
        const err = await guard.run('ping', () => redis.ping()).catch((e: unknown) => e);
        if (err instanceof RedisUnavailableError) {
          expect(performance.now() - started).toBeLessThan(50);
          break;
        }
        expect(Date.now(), 'the hung connection was never dropped').toBeLessThan(deadline);
        await sleep(100);
      }

      process.kill(own.pid, 'SIGCONT');
      frozenPid = undefined;
      const back = Date.now() + 5_000;
      while ((await guard.run('ping', () => redis.ping()).catch(() => null)) !== 'PONG') {
        expect(Date.now(), 'never answered again after SIGCONT').toBeLessThan(back);
        await sleep(50);
      }
    } finally {
      guard.stop();
    }
  }, 20_000);
});
