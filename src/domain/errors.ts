// Expected failures: a code from the public contract and a message a person can act on.
// Anything that is not a DomainError is unexpected and gets masked at the edge.

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'RESYNC_REQUIRED'
  /** A feature this server has not been set up for (push without VAPID keys). */
  | 'NOT_CONFIGURED';

export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

export const badInput = (message: string, field?: string): DomainError =>
  new DomainError('BAD_USER_INPUT', message, field ? { field } : {});

export const notFound = (message: string): DomainError => new DomainError('NOT_FOUND', message);

export const conversationNotFound = (): DomainError =>
  notFound('Conversation not found (it does not exist or you are not a member).');

export const messageNotFound = (): DomainError =>
  notFound('Message not found (it does not exist or you are not a member of its conversation).');

export const unauthenticated = (message = 'Sign in first: send Authorization: Bearer <token>.') =>
  new DomainError('UNAUTHENTICATED', message);

/**
 * Text that comes back exactly as it was sent: well-formed Unicode (no lone UTF-16 surrogates,
 * which would silently become U+FFFD), no NUL character (which text columns cannot hold), and
 * no leading byte order mark (U+FEFF: not content, and PGlite's decoder drops it when reading).
 */
export function checkText(value: string, field: string): string {
  if (!value.isWellFormed() || value.includes('\u0000') || value.startsWith('\uFEFF')) {
    throw badInput(
      `${field} must be valid Unicode text without NUL characters or a leading byte order mark.`,
      field,
    );
  }
  return value;
}
