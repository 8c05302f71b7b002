// Where live connections are counted. A user is ONLINE while any connection of theirs (on any
// instance) is alive; a connection stays alive while its instance renews it (heartbeat), so the
// users of an instance that dies expire without anyone cleaning up. Going OFFLINE is decided only
// after a grace period, so a quick reconnect or a second device does not flap.

/**
 * A change of a user's status. `version` grows with every change of that user, so a listener
 * can drop an older change that arrives after a newer one.
 */
export interface PresenceChange {
  userId: string;
  version: number;
  /** OFFLINE only: when the user's last connection ended (or its last renewal ran out). */
  lastSeenAt?: number;
}

export interface PresenceStore {
  readonly kind: 'memory' | 'redis';
  /** Registers a connection alive until `expiresAt`; a change when the user was not ONLINE. */
  connect(userId: string, connectionId: string, expiresAt: number): Promise<PresenceChange | null>;
  /** Forgets a connection; the user's status is decided after the grace period. */
  disconnect(userId: string, connectionId: string, now: number): Promise<void>;
  /**
   * Renews connections of this instance, putting back any the store lost (Redis restarted, or
   * swept while this instance stalled); returns the users that thereby came back ONLINE.
   */
  renew(
    connections: readonly { userId: string; connectionId: string }[],
    expiresAt: number,
  ): Promise<PresenceChange[]>;
  /** Which of these users are ONLINE (announced, not yet announced OFFLINE). */
  online(userIds: readonly string[]): Promise<Set<string>>;
  /**
   * Users whose last connection ended or expired more than the grace period ago: they are
   * OFFLINE from now on. Each is returned to exactly one caller, whichever instance asks first.
   */
  sweep(now: number): Promise<PresenceChange[]>;
  close(): Promise<void>;
}

export interface PresenceTiming {
  /** A connection not renewed within this is dead. */
  ttlMs: number;
  /** How long after the last connection ends OFFLINE is announced. */
  graceMs: number;
}
