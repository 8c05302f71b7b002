// Passwords (argon2id) and session tokens (HS256 JWTs signed with JWT_SECRET).
import { createSecretKey } from 'node:crypto';
import argon2 from 'argon2';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Deps } from './context.js';
import { DomainError, unauthenticated } from './errors.js';

export interface TokenService {
  issue(userId: string): Promise<string>;
  /** Whom the token was issued to, and until when; UNAUTHENTICATED when invalid or expired. */
  verify(token: string): Promise<VerifiedToken>;
}

export interface VerifiedToken {
  readonly userId: string;
  /**
   * When the token stops being valid (ms since the epoch), or null for a token without `exp`
   * (none are issued): a long-lived connection opened with it must end then.
   */
  readonly expiresAt: number | null;
}

const ISSUER = 'parley';
/** Verified tokens remembered (until they expire), so a client's requests skip re-verifying. */
const VERIFIED_CACHE_SIZE = 10_000;

export function createTokenService(secret: string, expiresIn: string): TokenService {
  // A KeyObject made once, rather than raw bytes imported again on every request.
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  // token -> (user id, expiry in ms). A token is its own proof, so remembering that it verified
  // is as good as verifying again until it expires; Map order gives the oldest to evict.
  const verified = new Map<string, { userId: string; expiresAt: number }>();
  return {
    issue: (userId) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(key),
    async verify(token) {
      const known = verified.get(token);
      if (known && known.expiresAt > Date.now()) return known;
      verified.delete(token);
      try {
        const { payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ['HS256'] });
        if (typeof payload.sub !== 'string') throw unauthenticated('Invalid token: log in again.');
        if (typeof payload.exp !== 'number') return { userId: payload.sub, expiresAt: null };
        // jose refuses a token once the current second reaches `exp`: valid until exp * 1000.
        const result = { userId: payload.sub, expiresAt: payload.exp * 1000 };
        if (verified.size >= VERIFIED_CACHE_SIZE) {
          verified.delete(verified.keys().next().value!);
        }
        verified.set(token, result);
        return result;
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) {
          throw unauthenticated('Your session has expired: log in again.');
        }
        throw unauthenticated('Invalid token: log in again.');
      }
    },
  };
}

/**
 * The user (and the token's expiry) of an `Authorization: Bearer <token>` value (HTTP header or
 * WebSocket connection_init), or the reason it is not accepted.
 */
export async function authenticate(
  deps: Pick<Deps, 'tokens'>,
  authorization: unknown,
): Promise<VerifiedToken | { error: DomainError }> {
  const match =
    typeof authorization === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  if (!match) return { error: unauthenticated('Send "Authorization: Bearer <token>".') };
  try {
    return await deps.tokens.verify(match[1]!);
  } catch (err) {
    if (err instanceof DomainError) return { error: err };
    throw err;
  }
}

export interface PasswordHashing {
  readonly memoryKiB: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/** argon2id cost of new hashes (PASSWORD_HASH_*): one setting for the process. */
let cost: PasswordHashing = { memoryKiB: 65_536, timeCost: 3, parallelism: 4 };

// Verified against when the phone is unknown, so both failures take the same time.
let dummyHash: Promise<string> | undefined;

/** Sets the cost of new hashes (and of the stand-in verified for unknown accounts). */
export function configurePasswordHashing(next: PasswordHashing): void {
  if (
    next.memoryKiB === cost.memoryKiB &&
    next.timeCost === cost.timeCost &&
    next.parallelism === cost.parallelism
  ) {
    return;
  }
  cost = next;
  dummyHash = undefined;
}

export const hashPassword = (password: string): Promise<string> =>
  argon2.hash(password, {
    type: argon2.argon2id,
    memoryCost: cost.memoryKiB,
    timeCost: cost.timeCost,
    parallelism: cost.parallelism,
  });

export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  if (hash === undefined) {
    dummyHash ??= hashPassword('parley-dummy-password');
    await argon2.verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}
