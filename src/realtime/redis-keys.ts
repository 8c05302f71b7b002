// Redis key names that depend on the topology. On Redis Cluster a key lives on the shard that
// owns its hash slot, computed from the part of the name between the first `{` and the next `}`
// (the hash tag) when there is one. Keys that one Lua script or MULTI touches must share a slot,
// so they share a hash tag; on a single server or Sentinel the names stay as they always were.

export interface PresenceKeys {
  /** Prepended to a user id: ZSET connection → expiresAt (ms). */
  readonly connectionsPrefix: string;
  /** ZSET user → when to decide whether the user went OFFLINE. */
  readonly due: string;
  /** SET of users announced ONLINE. */
  readonly online: string;
  /** HASH user → version, bumped on every change of status. */
  readonly versions: string;
}

/**
 * Presence keys. The connect script updates a user's connections and the shared due/online/
 * version sets together, and the sweep builds users' connection keys inside the script, so on
 * a cluster every presence key carries the one hash tag `{<prefix>presence}`: presence lives
 * on one shard (its load, one call per connection heartbeat, is small next to the messages').
 */
export function presenceKeys(prefix: string, clustered: boolean): PresenceKeys {
  const base = clustered ? `{${prefix}presence}:` : `${prefix}presence:`;
  return Object.freeze({
    connectionsPrefix: `${base}c:`,
    due: `${base}due`,
    online: `${base}on`,
    versions: `${base}v`,
  });
}

/**
 * The prefix of a rate limit's key (rate-limiter-flexible appends `:<key>`). Each limit is one
 * key (counter and block live in it), so it needs no hash tag: limits spread over the shards.
 */
export function rateLimitPrefix(prefix: string, bucket: string): string {
  return `${prefix}rl:${bucket}`;
}

/**
 * The slot a key or shard channel hashes to, as Redis Cluster computes it (CRC16 of the hash
 * tag, or of the whole name, modulo 16384). Used by tests and by the bus to say which shard a
 * conversation's topic lives on.
 */
export function hashSlot(key: string): number {
  const open = key.indexOf('{');
  let hashed = key;
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(hashed, 'utf8')) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
