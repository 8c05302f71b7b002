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
  /**
   * Phone and email lookups are how accounts get enumerated: every phone or address resolved
   * counts, whether asked one at a time (userByPhone, userByEmail), in a list
   * (createGroupConversation, addMembers) or by adding it to a profile (updateProfile answers
   * CONFLICT when someone holds it). One budget for all, so mixing them is no faster.
   */
  userByPhone: { points: 30, windowSeconds: 60 },
  setTyping: { points: 60, windowSeconds: 60 },
  uploadAttachment: { points: 60, windowSeconds: 60 },
  /** Invite codes made (each is a way in: a flood of them is spam). */
  createInvite: { points: 20, windowSeconds: 3_600 },
  /** Joins by code or of public groups: guessing codes, or crawling public rooms. */
  joinConversation: { points: 30, windowSeconds: 600 },
  /** Public group searches and pages. */
  publicConversations: { points: 60, windowSeconds: 60 },
  /** Message searches (each ranks every match in the caller's conversations). */
  searchMessages: { points: 60, windowSeconds: 60 },
  /** Per client IP. */
  registerPerIp: { points: 10, windowSeconds: 3_600 },
  /**
   * The same from the machine itself in embedded development mode (`npm start` on a laptop,
   * where a developer resets data and signs up test users all day): a hundred times as many.
   */
  registerPerLocalIp: { points: 1_000, windowSeconds: 3_600 },
  loginPerIp: { points: 30, windowSeconds: 60 },
  /**
   * Sign-in attempts at one phone (or email address, in any letter case: the buckets of both are
   * named after phones) from one address: five within 15 minutes, then that address is locked
   * out of that phone (any password) for 15 minutes. Every attempt counts before its
   * password is checked, so concurrent guesses cannot slip past the count; a success forgives
   * the address. Keyed by address as well so that a stranger's five wrong guesses lock only
   * themselves out, not the owner (issue 14).
   */
  loginAttemptsPerPhoneAndIp: { points: 5, windowSeconds: 900, blockSeconds: 900 },
  /**
   * Sign-in attempts at one phone (or email address) from all addresses together: the ceiling for guessers who
   * spread over many addresses. Loose enough that locking the owner out this way takes many
   * addresses (an address adds at most five per 15 minutes); a success does not forgive it.
   */
  loginAttemptsPerPhone: { points: 100, windowSeconds: 3_600, blockSeconds: 3_600 },
} satisfies Record<string, RateRule>);

export type RateBucket = keyof typeof rateRules;

export interface RateLimiter {
  /**
   * Counts a request as `points` (default 1: a list of phones to resolve spends one each), in
   * one atomic step; throws RATE_LIMITED when that goes over the limit (a request asking for
   * more than is left is refused whole, so concurrent ones never get more than the budget).
   */
  consume(bucket: RateBucket, key: string, points?: number): Promise<void>;
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
  userByPhone: 'phone lookups and email lookups',
  setTyping: 'typing updates',
  uploadAttachment: 'uploads',
  createInvite: 'invite codes',
  joinConversation: 'joins',
  publicConversations: 'public group searches',
  searchMessages: 'message searches',
  registerPerIp: 'registrations from this address',
  registerPerLocalIp: 'registrations from this machine',
  loginPerIp: 'sign-in attempts from this address',
  loginAttemptsPerPhoneAndIp:
    'sign-in attempts for this phone or email from this address; it is locked here for now',
  loginAttemptsPerPhone: 'sign-in attempts for this phone or email; it is locked for now',
};

/** 127.0.0.0/8 or ::1, also IPv4-mapped: the server's own machine. */
export function isLoopback(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return v4.startsWith('127.') || ip === '::1';
}
