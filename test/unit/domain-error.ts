// Shared assertion for the unit suites: the call fails with the contract's BAD_USER_INPUT code,
// names the offending field and carries a message a person can read.
import { expect } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';

export function expectBadInput(fn: () => unknown, field?: string): DomainError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, 'expected a DomainError to be thrown').toBeInstanceOf(DomainError);
  const error = thrown as DomainError;
  expect(error.code).toBe('BAD_USER_INPUT');
  if (field !== undefined) expect(error.extensions).toEqual({ field });
  expect(error.message.trim().length).toBeGreaterThan(10);
  return error;
}
