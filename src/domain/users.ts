import type { UserRow } from '../db/schema.js';
import {
  findUserByEmail,
  findUserById,
  findUserByPhone,
  findUsersByIds,
  findUsersByPhones,
  insertUser,
  updateProfileFields,
} from '../db/users.js';
import { hashPassword, verifyPassword } from './auth.js';
import type { Deps, Session } from './context.js';
import { badInput, checkText, DomainError, notFound, unauthenticated } from './errors.js';
import { emailKey, MAX_EMAIL_LENGTH, normalizeEmail, parseEmail } from './email.js';
import { isUuid, newId } from './ids.js';
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

/** Exactly one of a phone and an email, as a register or login input gives them. */
export type Identifier = { kind: 'phone'; input: string } | { kind: 'email'; input: string };

const given = (value: string | null | undefined): value is string =>
  value !== null && value !== undefined;

export function oneIdentifier(input: {
  phone?: string | null | undefined;
  email?: string | null | undefined;
}): Identifier {
  const hasPhone = given(input.phone);
  if (hasPhone === given(input.email)) {
    throw badInput('Give exactly one of phone and email.', hasPhone ? 'email' : 'phone');
  }
  return hasPhone ? { kind: 'phone', input: input.phone! } : { kind: 'email', input: input.email! };
}

const taken = (what: string, field: 'phone' | 'email', advice: string) =>
  new DomainError('CONFLICT', `${what} is already registered${advice}.`, { field });

export async function register(
  deps: Deps,
  input: {
    phone?: string | null | undefined;
    email?: string | null | undefined;
    displayName: string;
    password: string;
  },
  clientIp: string,
): Promise<AuthResult> {
  const local = deps.localDevelopment && isLoopback(clientIp);
  await deps.rateLimiter.consume(local ? 'registerPerLocalIp' : 'registerPerIp', clientIp);
  const identifier = oneIdentifier(input);
  const phone = identifier.kind === 'phone' ? parsePhone(identifier.input) : null;
  const email = identifier.kind === 'email' ? parseEmail(identifier.input) : null;
  const displayName = parseDisplayName(input.displayName);
  checkPassword(input.password);
  const passwordHash = await hashPassword(input.password);
  // Two registrations of one address in different letter case race to the unique index on
  // lower(email): one gets the account, the other this CONFLICT.
  const result = await insertUser(deps.db, {
    id: newId(),
    phone,
    email,
    displayName,
    passwordHash,
  });
  if ('taken' in result) {
    throw result.taken === 'phone'
      ? taken(phone ?? 'This phone', 'phone', ': log in instead')
      : taken(email ?? 'This email address', 'email', ': log in instead');
  }
  return { token: await deps.tokens.issue(result.user.id), user: asOwnAccount(result.user) };
}

/**
 * Accounts that register or login just proved to be the caller's: the request carries no token
 * of them yet, but the user they return is the caller all the same.
 */
const ownAccounts = new WeakSet<object>();

function asOwnAccount<T extends object>(user: T): T {
  ownAccounts.add(user);
  return user;
}

/**
 * A user's email as `viewerId` sees it: their own only (an address is how to reach someone, and
 * nobody was asked to share it). The row may be a message's sender, which carries no email: it
 * is loaded then.
 */
export async function emailOf(
  viewerId: string | null,
  user: { id: string; email?: unknown },
  load: (id: string) => Promise<UserRow | undefined>,
): Promise<string | null> {
  if (!ownAccounts.has(user) && (viewerId === null || viewerId !== user.id)) return null;
  if ('email' in user) return typeof user.email === 'string' ? user.email : null;
  return (await load(user.id))?.email ?? null;
}

const badCredentials = (kind: Identifier['kind']) =>
  unauthenticated(
    kind === 'phone' ? 'Wrong phone number or password.' : 'Wrong email address or password.',
  );

/**
 * How a sign-in names its account: the key its attempts are counted under (the phone in E.164,
 * the address in lower case; any input that is neither still gets a key of its own, so a
 * malformed one is counted like a wrong one) and the lookup, null when the input cannot name
 * anyone.
 */
function signInTarget(
  deps: Deps,
  identifier: Identifier,
): { lockKey: string; find: (() => Promise<UserRow | undefined>) | null } {
  if (identifier.kind === 'phone') {
    const phone = normalizePhone(identifier.input);
    return {
      lockKey: phone ?? identifier.input.slice(0, 64),
      find: phone ? () => findUserByPhone(deps.db, phone) : null,
    };
  }
  const email = normalizeEmail(identifier.input);
  return {
    lockKey: emailKey(email ?? identifier.input.trim().slice(0, MAX_EMAIL_LENGTH)),
    find: email ? () => findUserByEmail(deps.db, email) : null,
  };
}

export async function login(
  deps: Deps,
  input: {
    phone?: string | null | undefined;
    email?: string | null | undefined;
    password: string;
  },
  clientIp: string,
  /** The user of a valid token sent with the request (a device already signed in), if any. */
  signedInAs: string | null = null,
): Promise<AuthResult> {
  await deps.rateLimiter.consume('loginPerIp', clientIp);
  const identifier = oneIdentifier(input);
  // Any shape of wrong input gets the same answer as a wrong password, so nothing is revealed.
  const { lockKey, find } = signInTarget(deps, identifier);
  const guesserKey = `${lockKey} ${clientIp}`;
  // The lock stops guessers, not the owner: a device that already holds a valid token of this
  // account is let through, so strangers spread over many addresses cannot lock the owner out.
  // (Only then is the account looked up before the count: for anyone else the lookup is a guess.)
  const claimed = signedInAs !== null && find ? await find() : undefined;
  const owner = claimed !== undefined && claimed.id === signedInAs;
  if (!owner) {
    // Every attempt is counted before its password is checked, atomically: counting only after
    // a failure let 25 concurrent guesses all pass the check while the first ones were still
    // being hashed (issue 14). The per-address count goes first, so an address that is already
    // locked out spends nothing of the account's shared ceiling.
    await deps.rateLimiter.consume('loginAttemptsPerPhoneAndIp', guesserKey);
    await deps.rateLimiter.consume('loginAttemptsPerPhone', lockKey);
  }
  const user = claimed ?? (find ? await find() : undefined);
  const ok =
    input.password.length <= limits.maxPasswordLength &&
    (await verifyPassword(user?.passwordHash, input.password));
  if (!user || !ok) throw badCredentials(identifier.kind);
  // The right password forgives this address's earlier attempts (it was the owner mistyping).
  if (!owner) await deps.rateLimiter.reset('loginAttemptsPerPhoneAndIp', guesserKey);
  return { token: await deps.tokens.issue(user.id), user: asOwnAccount(user) };
}

export async function me(session: Session): Promise<UserRow> {
  const user = await session.loaders.user.load(session.userId);
  if (!user) throw unauthenticated('This account no longer exists: register again.');
  return user;
}

const gone = () => unauthenticated('This account no longer exists: register again.');

/**
 * Changes what is given: the display name, and a phone or an email the account does not have
 * yet (one it has cannot be changed; giving it again changes nothing).
 */
export async function updateProfile(
  session: Session,
  input: {
    displayName?: string | null | undefined;
    phone?: string | null | undefined;
    email?: string | null | undefined;
  },
): Promise<UserRow> {
  if (!given(input.displayName) && !given(input.phone) && !given(input.email)) {
    throw badInput('Give at least one of displayName, phone and email.', 'displayName');
  }
  const displayName = given(input.displayName) ? parseDisplayName(input.displayName) : null;
  const phone = given(input.phone) ? parsePhone(input.phone) : null;
  const email = given(input.email) ? parseEmail(input.email) : null;
  // A CONFLICT says that someone else holds that phone or address: each one asked about is a
  // lookup, from the budget userByPhone and userByEmail spend, or this would be a free oracle.
  const lookups = (phone === null ? 0 : 1) + (email === null ? 0 : 1);
  if (lookups > 0) await session.deps.rateLimiter.consume('userByPhone', session.userId, lookups);
  const result = await updateProfileFields(session.deps.db, session.userId, {
    displayName,
    phone,
    email,
  });
  if (!result) throw gone();
  if ('taken' in result) {
    throw result.taken === 'phone'
      ? taken(phone ?? 'This phone', 'phone', ' to another account')
      : taken(email ?? 'This email address', 'email', ' to another account');
  }
  if ('differs' in result) {
    const current = await findUserById(session.deps.db, session.userId);
    if (!current) throw gone();
    if (phone !== null && current.phone !== null && current.phone !== phone) {
      throw badInput(
        `This account already has the phone number ${current.phone}: it cannot be changed.`,
        'phone',
      );
    }
    throw badInput(
      `This account already has the email address ${current.email ?? ''}: it cannot be changed.`,
      'email',
    );
  }
  session.loaders.user.clear(result.user.id).prime(result.user.id, result.user);
  return result.user;
}

export async function userByPhone(session: Session, phoneInput: string): Promise<UserRow | null> {
  await session.deps.rateLimiter.consume('userByPhone', session.userId);
  const phone = parsePhone(phoneInput);
  return (await findUserByPhone(session.deps.db, phone)) ?? null;
}

export async function userByEmail(session: Session, emailInput: string): Promise<UserRow | null> {
  // The same budget as userByPhone: asking by email as well does not enumerate any faster.
  await session.deps.rateLimiter.consume('userByPhone', session.userId);
  const email = parseEmail(emailInput);
  return (await findUserByEmail(session.deps.db, email)) ?? null;
}

/**
 * Users named by phone or by id (createGroupConversation, addMembers), deduplicated: every
 * distinct phone counts against the caller's lookup budget, as if asked with userByPhone, before
 * any is looked up. Ids do not (they cannot be guessed), but count with the phones against the
 * per-call limit. Any unknown one: NOT_FOUND, and the caller changes nothing.
 */
export async function usersForPhonesAndIds(
  session: Session,
  input: { phones: readonly string[]; ids: readonly string[] },
  fields: { phones: string; ids: string },
): Promise<UserRow[]> {
  if (input.phones.length + input.ids.length > limits.maxMembersPerCall) {
    throw badInput(
      `At most ${limits.maxMembersPerCall} phones and ids together per call.`,
      input.phones.length > 0 ? fields.phones : fields.ids,
    );
  }
  const ids = [...new Set(input.ids)];
  const phones = [...new Set(input.phones.map((p) => parsePhone(p, fields.phones)))];
  const malformed = ids.find((id) => !isUuid(id));
  if (malformed !== undefined) throw noUserWithId(malformed);
  const byPhone = await usersForPhones(session, phones);
  const found = new Map((await findUsersByIds(session.deps.db, ids)).map((u) => [u.id, u]));
  const missing = ids.find((id) => !found.has(id));
  if (missing !== undefined) throw noUserWithId(missing);
  // In the order given, phones first; someone named twice (by phone and by id) once.
  const users = new Map(
    [...phones.map((p) => byPhone.get(p)!), ...ids.map((id) => found.get(id)!)].map((u) => [
      u.id,
      u,
    ]),
  );
  return [...users.values()];
}

// Ids are random: naming the one not found tells a prober nothing.
const noUserWithId = (id: string) => notFound(`No user has the id "${id.slice(0, 64)}".`);

/** The users of these (normalised, distinct) phones, each counted against the lookup budget. */
async function usersForPhones(
  session: Session,
  phones: readonly string[],
): Promise<Map<string, UserRow>> {
  if (phones.length === 0) return new Map();
  await session.deps.rateLimiter.consume('userByPhone', session.userId, phones.length);
  const found = await findUsersByPhones(session.deps.db, phones);
  // Which phone is unknown is not said. A registered phone is always someone's, so naming only
  // phones the caller already shares a conversation with would name none; and naming each
  // unknown one made a list of 2,000 phones an enumeration oracle. The caller who needs to know
  // asks userByPhone, one phone at a time, from the same budget.
  if (found.length < phones.length) {
    throw notFound(
      'Some of these phones are not registered with Parley. Which ones is not said, so that numbers cannot be probed in bulk: check a phone with userByPhone.',
    );
  }
  return new Map(found.map((u) => [u.phone!, u]));
}
