// Deadlines for Redis. A Redis that shuts down closes its connections, ioredis notices and every
// call fails at once. A Redis that hangs (SIGSTOP, a stalled host, a partition that sends no
// RST) leaves them open and silent: a command written to it waits forever, and so did every
// request behind it (issue 14: a 10 s freeze held sendMessage for up to 10 s and /readyz never
// answered). So every call gets a deadline, past which it fails over, and every connection is
// pinged; one that leaves its PING unanswered for longer (hungAfterMs) is dropped and dialled
// again. While it is being dialled (a frozen
// Redis still completes TCP handshakes, in the kernel, but never answers the HELLO that follows)
// it is not 'ready', and calls fail at once instead of each waiting out the deadline.
import { Cluster, type Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/** A call that got no answer in time. */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/** A call to Redis not made: the connection is lost, or hung and being dialled again. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/**
 * Settles like `promise`, or rejects with DeadlineError once `ms` passed without an answer.
 * (The call itself cannot be taken back: its late answer is ignored.)
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      // Judged one turn of the event loop later: an answer that arrived while the loop was busy
      // (a long GC, a CPU-heavy request) is read in the poll phase between this timer and
      // setImmediate, so a slow process is not taken for a hung Redis.
      setImmediate(() => {
        if (settled) return;
        settled = true;
        reject(new DeadlineError(`${what}: no answer within ${ms} ms`));
      });
    }, ms);
    promise.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** How often a connection is pinged: a hang is noticed within this plus `hungAfterMs`. */
const HEARTBEAT_MS = 500;
/**
 * A connection still in its handshake after this is dialled again. A frozen Redis keeps it
 * there (best: it answers the moment it runs again); a host that vanished would keep it there
 * until TCP keepalive gives up, minutes later.
 */
const HANDSHAKE_LIMIT_MS = 10_000;

/**
 * How long a connection may leave a PING unanswered before it is taken as hung: longer than a
 * request waits (`deadlineMs`), because dropping a connection costs more than failing one call
 * over (a dropped subscriber makes every stream of the instance catch up from the database), and
 * a busy but healthy connection (a burst of events ahead of the PONG, a Redis that paused for a
 * fork) must not be mistaken for a hung one.
 */
export const hungAfterMs = (deadlineMs: number): number => Math.max(1_000, 5 * deadlineMs);

export interface RedisGuard {
  /**
   * Runs one call with a deadline (`deadlineMs` unless given). Once the connection has been
   * ready, a call made while it is not (lost, or dropped as hung and being dialled again) fails
   * at once instead of waiting.
   */
  run<T>(what: string, call: () => Promise<T>, deadlineMs?: number): Promise<T>;
  stop(): void;
}

/**
 * Watches one ioredis connection: pings it every HEARTBEAT_MS, and drops and dials it again
 * when the PING stays unanswered for `hungAfterMs` (ioredis re-subscribes its channels on the
 * new connection, and its 'ready' event tells the bus to catch up from the database).
 *
 * A Cluster client gets the deadlines but no heartbeat: its PING goes to one node, and a node
 * that hangs or dies is the cluster's to fail over (cluster-node-timeout), after which the
 * client follows the new slot map. Dropping every connection of the client because one node
 * is slow would only add an outage on the healthy shards.
 */
export function guardRedis(
  client: Redis | Cluster,
  opts: { name: string; deadlineMs: number; logger: Logger },
): RedisGuard {
  const { name, deadlineMs, logger } = opts;
  const hung = hungAfterMs(deadlineMs);
  let wasReady = client.status === 'ready';
  /** Dropped as hung and not yet ready again: no more pings until it is. */
  let dropped = false;
  let probing = false;
  let handshakeSince: number | undefined;
  const onReady = () => {
    wasReady = true;
    dropped = false;
    handshakeSince = undefined;
  };
  client.on('ready', onReady);

  const beat = () => {
    if (client.status === 'ready' && !dropped) {
      handshakeSince = undefined;
      if (probing) return;
      probing = true;
      withDeadline(client.ping(), hung, `${name} ping`)
        .catch((err: unknown) => {
          // Only a connection that is up can hang; one being dialled is left to ioredis.
          if (err instanceof DeadlineError && client.status === 'ready' && !dropped) {
            dropped = true;
            logger.warn({ client: name, hungAfterMs: hung }, 'redis connection hung; reconnecting');
            client.disconnect(true);
          }
        })
        .finally(() => {
          probing = false;
        });
    } else if (client.status === 'connect') {
      handshakeSince ??= Date.now();
      if (Date.now() - handshakeSince > HANDSHAKE_LIMIT_MS) {
        handshakeSince = undefined;
        logger.warn({ client: name }, 'redis handshake unanswered; dialling again');
        client.disconnect(true);
      }
    } else {
      handshakeSince = undefined;
    }
  };
  const heartbeat = client instanceof Cluster ? undefined : setInterval(beat, HEARTBEAT_MS);
  heartbeat?.unref();

  return {
    run(what, call, ms = deadlineMs) {
      if (wasReady && (client.status !== 'ready' || dropped)) {
        return Promise.reject(
          new RedisUnavailableError(
            `${what}: Redis connection ${dropped ? 'hung, being dialled again' : client.status}`,
          ),
        );
      }
      return withDeadline(call(), ms, what);
    },
    stop() {
      clearInterval(heartbeat);
      client.off('ready', onReady);
    },
  };
}
