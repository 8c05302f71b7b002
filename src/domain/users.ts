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
): Promise<AuthResult> {
  await deps.rateLimiter.consume('loginPerIp', clientIp);
  // Any shape of wrong input gets the same answer as a wrong password, so nothing is revealed.
  const phone = normalizePhone(input.phone);
  const lockKey = phone ?? input.phone.slice(0, 64);
  await deps.rateLimiter.check('loginFailuresPerPhone', lockKey);
  const user = phone ? await findUserByPhone(deps.db, phone) : undefined;
  const ok =
    input.password.length <= limits.maxPasswordLength &&
    (await verifyPassword(user?.passwordHash, input.password));
  if (!user || !ok) {
    // Repeated failures lock the phone for a while (RATE_LIMITED), whoever is trying.
    await deps.rateLimiter.consume('loginFailuresPerPhone', lockKey);
    throw badCredentials();
  }
  await deps.rateLimiter.reset('loginFailuresPerPhone', lockKey);
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

/** Users for a list of phones (normalised, deduplicated); NOT_FOUND naming the first unknown one. */
export async function usersForPhones(
  deps: Deps,
  phonesInput: readonly string[],
  field: string,
): Promise<UserRow[]> {
  if (phonesInput.length > limits.maxPhonesPerCall) {
    throw badInput(`At most ${limits.maxPhonesPerCall} phones per call.`, field);
  }
  const phones = [...new Set(phonesInput.map((p) => parsePhone(p, field)))];
  const found = await findUsersByPhones(deps.db, phones);
  const byPhone = new Map(found.map((u) => [u.phone, u]));
  const missing = phones.find((p) => !byPhone.has(p));
  if (missing) throw notFound(`No user is registered with ${missing}.`);
  return phones.map((p) => byPhone.get(p)!);
}
