// Who may do how much. Counters live in Redis when it is configured (so limits hold across
// instances) and in process otherwise; over a limit is RATE_LIMITED with retryAfterSeconds.
import { DomainError } from './errors.js';

export interface RateRule {
  /** Requests allowed per window. */
  points: number;
  windowSeconds: number;
  /** Once over, refused for this long (a lockout); else until the window ends. */
  blockSeconds?: number;
}

export const rateRules = Object.freeze({
  /** Per user. */
  sendMessage: { points: 120, windowSeconds: 60 },
  startDirectConversation: { points: 30, windowSeconds: 60 },
  /** Phone lookups are how numbers get enumerated. */
  userByPhone: { points: 30, windowSeconds: 60 },
  setTyping: { points: 60, windowSeconds: 60 },
  uploadAttachment: { points: 60, windowSeconds: 60 },
  /** Per client IP. */
  registerPerIp: { points: 10, windowSeconds: 3_600 },
  /**
   * The same from the machine itself in embedded development mode (`npm start` on a laptop,
   * where a developer resets data and signs up test users all day): a hundred times as many.
   */
  registerPerLocalIp: { points: 1_000, windowSeconds: 3_600 },
  loginPerIp: { points: 30, windowSeconds: 60 },
  /**
   * Failed logins of one phone: after five within 15 minutes it is locked (any password) until
   * the window ends; a sixth failure would lock it for 15 minutes from then.
   */
  loginFailuresPerPhone: { points: 5, windowSeconds: 900, blockSeconds: 900 },
} satisfies Record<string, RateRule>);

export type RateBucket = keyof typeof rateRules;

export interface RateLimiter {
  /** Counts one request; throws RATE_LIMITED when over the limit. */
  consume(bucket: RateBucket, key: string): Promise<void>;
  /** Throws RATE_LIMITED while the key is over the limit, without counting. */
  check(bucket: RateBucket, key: string): Promise<void>;
  reset(bucket: RateBucket, key: string): Promise<void>;
}

export const rateLimited = (retryAfterMs: number, what: string): DomainError => {
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new DomainError('RATE_LIMITED', `Too many ${what}: try again in ${retryAfterSeconds} s.`, {
    retryAfterSeconds,
  });
};

export const describeBucket: Record<RateBucket, string> = {
  sendMessage: 'messages',
  startDirectConversation: 'new conversations',
  userByPhone: 'phone lookups',
  setTyping: 'typing updates',
  uploadAttachment: 'uploads',
  registerPerIp: 'registrations from this address',
  registerPerLocalIp: 'registrations from this machine',
  loginPerIp: 'sign-in attempts from this address',
  loginFailuresPerPhone: 'failed sign-ins for this phone; it is locked for now',
};

/** 127.0.0.0/8 or ::1, also IPv4-mapped: the server's own machine. */
export function isLoopback(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return v4.startsWith('127.') || ip === '::1';
}
