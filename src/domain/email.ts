import { badInput } from './errors.js';

/** RFC 5321's limit on a forward path: longer addresses cannot receive mail anyway. */
export const MAX_EMAIL_LENGTH = 254;

// Something, one @, then at least two dot-separated labels, none empty; no spaces anywhere.
const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/u;

/**
 * An email address as typed, without surrounding spaces, or null when it does not look like
 * one. Syntax only: one @, a dotted domain, no spaces or control characters, at most 254
 * characters. Nobody checks that mail reaches it.
 */
export function normalizeEmail(input: string): string | null {
  const email = input.trim();
  if (email.length > MAX_EMAIL_LENGTH || !email.isWellFormed()) return null;
  if (/\p{Cc}/u.test(email)) return null;
  return EMAIL.test(email) ? email : null;
}

export function parseEmail(input: string, field = 'email'): string {
  const email = normalizeEmail(input);
  if (!email) {
    throw badInput(
      `"${input.trim().slice(0, 32)}" is not an email address: use name@example.com (one @, a dotted domain, no spaces, at most ${MAX_EMAIL_LENGTH} characters).`,
      field,
    );
  }
  return email;
}

/**
 * What two spellings of one address share: addresses are unique without regard to letter case
 * (the database holds that rule, users_email_key on lower(email); this is for keys kept elsewhere,
 * such as the sign-in lock).
 */
export const emailKey = (email: string): string => email.toLowerCase();
