import { pgErrorCode, UNIQUE_VIOLATION } from '../db/client.js';
import type { UserRow } from '../db/schema.js';
import { findUserByPhone, findUsersByPhones, insertUser, updateDisplayName } from '../db/users.js';
import { hashPassword, verifyPassword } from './auth.js';
import type { Deps, Session } from './context.js';
import { badInput, checkText, DomainError, notFound, unauthenticated } from './errors.js';
import { newId } from './ids.js';
import { limits } from './limits.js';
import { isLoopback } from './rate-limits.js';
import { normalizePhone, parsePhone } from './phone.js';

export interface AuthResult {
  token: string;
  user: UserRow;
}

export function parseDisplayName(input: string): string {
  const name = checkText(input, 'displayName').trim();
  const length = [...name].length;
  if (length < 1 || length > limits.maxDisplayNameLength) {
    throw badInput(
      `displayName must be 1–${limits.maxDisplayNameLength} characters (not counting surrounding spaces).`,
      'displayName',
    );
  }
  if (/\p{Cc}/u.test(name))
    throw badInput('displayName must not contain control characters.', 'displayName');
  return name;
}

function checkPassword(password: string): void {
  checkText(password, 'password');
  if (password.length < limits.minPasswordLength) {
    throw badInput(`password must be at least ${limits.minPasswordLength} characters.`, 'password');
  }
  if (password.length > limits.maxPasswordLength) {
    throw badInput(`password must be at most ${limits.maxPasswordLength} characters.`, 'password');
  }
}

export async function register(
  deps: Deps,
  input: { phone: string; displayName: string; password: string },
  clientIp: string,
): Promise<AuthResult> {
  const local = deps.localDevelopment && isLoopback(clientIp);
  await deps.rateLimiter.consume(local ? 'registerPerLocalIp' : 'registerPerIp', clientIp);
  const phone = parsePhone(input.phone);
  const displayName = parseDisplayName(input.displayName);
  checkPassword(input.password);
  const passwordHash = await hashPassword(input.password);
  let user: UserRow;
  try {
    user = await insertUser(deps.db, { id: newId(), phone, displayName, passwordHash });
  } catch (err) {
    if (pgErrorCode(err) === UNIQUE_VIOLATION) {
      throw new DomainError('CONFLICT', `${phone} is already registered: log in instead.`, {
        field: 'phone',
      });
    }
    throw err;
  }
  return { token: await deps.tokens.issue(user.id), user };
}

const badCredentials = () => unauthenticated('Wrong phone number or password.');

export async function login(
  deps: Deps,
  input: { phone: string; password: string },
  clientIp: string,
  /** The user of a valid token sent with the request (a device already signed in), if any. */
  signedInAs: string | null = null,
): Promise<AuthResult> {
  await deps.rateLimiter.consume('loginPerIp', clientIp);
  // Any shape of wrong input gets the same answer as a wrong password, so nothing is revealed.
  const phone = normalizePhone(input.phone);
  const lockKey = phone ?? input.phone.slice(0, 64);
  const guesserKey = `${lockKey} ${clientIp}`;
  // The lock stops guessers, not the owner: a device that already holds a valid token of this
  // account is let through, so strangers spread over many addresses cannot lock the owner out.
  // (Only then is the phone looked up before the count: for anyone else the lookup is a guess.)
  const claimed = signedInAs !== null && phone ? await findUserByPhone(deps.db, phone) : undefined;
  const owner = claimed !== undefined && claimed.id === signedInAs;
  if (!owner) {
    // Every attempt is counted before its password is checked, atomically: counting only after
    // a failure let 25 concurrent guesses all pass the check while the first ones were still
    // being hashed (issue 14). The per-address count goes first, so an address that is already
    // locked out spends nothing of the phone's shared ceiling.
    await deps.rateLimiter.consume('loginAttemptsPerPhoneAndIp', guesserKey);
    await deps.rateLimiter.consume('loginAttemptsPerPhone', lockKey);
  }
  const user = claimed ?? (phone ? await findUserByPhone(deps.db, phone) : undefined);
  const ok =
    input.password.length <= limits.maxPasswordLength &&
    (await verifyPassword(user?.passwordHash, input.password));
  if (!user || !ok) throw badCredentials();
  // The right password forgives this address's earlier attempts (it was the owner mistyping).
  if (!owner) await deps.rateLimiter.reset('loginAttemptsPerPhoneAndIp', guesserKey);
  return { token: await deps.tokens.issue(user.id), user };
}

export async function me(session: Session): Promise<UserRow> {
  const user = await session.loaders.user.load(session.userId);
  if (!user) throw unauthenticated('This account no longer exists: register again.');
  return user;
}

export async function updateProfile(
  session: Session,
  input: { displayName: string },
): Promise<UserRow> {
  const displayName = parseDisplayName(input.displayName);
  const user = await updateDisplayName(session.deps.db, session.userId, displayName);
  if (!user) throw unauthenticated('This account no longer exists: register again.');
  session.loaders.user.clear(user.id).prime(user.id, user);
  return user;
}

export async function userByPhone(session: Session, phoneInput: string): Promise<UserRow | null> {
  await session.deps.rateLimiter.consume('userByPhone', session.userId);
  const phone = parsePhone(phoneInput);
  return (await findUserByPhone(session.deps.db, phone)) ?? null;
}

/**
 * Users for a list of phones (normalised, deduplicated), each phone counted against the caller's
 * lookup budget before any is looked up, as if it had been asked with userByPhone.
 */
export async function usersForPhones(
  session: Session,
  phonesInput: readonly string[],
  field: string,
): Promise<UserRow[]> {
  if (phonesInput.length > limits.maxPhonesPerCall) {
    throw badInput(`At most ${limits.maxPhonesPerCall} phones per call.`, field);
  }
  const phones = [...new Set(phonesInput.map((p) => parsePhone(p, field)))];
  await session.deps.rateLimiter.consume('userByPhone', session.userId, phones.length);
  const found = await findUsersByPhones(session.deps.db, phones);
  const byPhone = new Map(found.map((u) => [u.phone, u]));
  // Which phone is unknown is not said. A registered phone is always someone's, so naming only
  // phones the caller already shares a conversation with would name none; and naming each
  // unknown one made a list of 2,000 phones an enumeration oracle. The caller who needs to know
  // asks userByPhone, one phone at a time, from the same budget.
  if (byPhone.size < phones.length) {
    throw notFound(
      'Some of these phones are not registered with Parley. Which ones is not said, so that numbers cannot be probed in bulk: check a phone with userByPhone.',
    );
  }
  return phones.map((p) => byPhone.get(p)!);
}
