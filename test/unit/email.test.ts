import { describe, expect, it } from 'vitest';
import { emailKey, MAX_EMAIL_LENGTH, normalizeEmail, parseEmail } from '../../src/domain/email.js';
import { oneIdentifier } from '../../src/domain/users.js';
import { expectBadInput } from './domain-error.js';

/** An address of exactly `length` characters. */
const ofLength = (length: number) => `${'a'.repeat(length - '@example.com'.length)}@example.com`;

describe('normalizeEmail', () => {
  it.each([
    ['ann@example.com', 'ann@example.com'],
    ['Ann.Lee+chat@Mail.Example.co.uk', 'Ann.Lee+chat@Mail.Example.co.uk'],
    ['  ann@example.com\t', 'ann@example.com'],
    ["o'brien@example.ie", "o'brien@example.ie"],
    ['zoë@exämple.de', 'zoë@exämple.de'],
    ['a@b.c', 'a@b.c'],
  ])('accepts %j as %j (trimmed, letter case kept)', (input, expected) => {
    expect(normalizeEmail(input)).toBe(expected);
  });

  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['no @', 'ann.example.com'],
    ['two @', 'ann@lee@example.com'],
    ['nothing before the @', '@example.com'],
    ['nothing after the @', 'ann@'],
    ['an undotted domain', 'ann@localhost'],
    ['an empty label', 'ann@example..com'],
    ['a leading dot in the domain', 'ann@.example.com'],
    ['a trailing dot in the domain', 'ann@example.com.'],
    ['a space inside', 'ann lee@example.com'],
    ['a space in the domain', 'ann@exa mple.com'],
    ['a no-break space', 'ann\u00a0@example.com'],
    ['a line break', 'ann\n@example.com'],
    ['a next-line control', 'ann\u0085@example.com'],
    ['a control character', 'ann\u0001@example.com'],
    ['a NUL', 'ann\u0000@example.com'],
    ['a lone surrogate', 'ann\ud800@example.com'],
    ['a phone number', '+15551234567'],
  ])('rejects %s', (_label, input) => {
    expect(normalizeEmail(input)).toBeNull();
  });

  it(`accepts ${MAX_EMAIL_LENGTH} characters and no more`, () => {
    expect(normalizeEmail(ofLength(254))).toBe(ofLength(254));
    expect(normalizeEmail(ofLength(255))).toBeNull();
    // Surrounding spaces do not count.
    expect(normalizeEmail(`  ${ofLength(254)}  `)).toBe(ofLength(254));
  });
});

describe('parseEmail', () => {
  it('returns the trimmed address', () => {
    expect(parseEmail(' Ann@Example.com ')).toBe('Ann@Example.com');
  });

  it('fails with BAD_USER_INPUT naming the field, quoting a bounded part of the input', () => {
    expectBadInput(() => parseEmail('nope'), 'email');
    expectBadInput(() => parseEmail('nope', 'memberEmails'), 'memberEmails');
    const error = expectBadInput(() => parseEmail(`${'x'.repeat(300)}@example.com`), 'email');
    expect(error.message.length).toBeLessThan(200);
  });
});

describe('emailKey', () => {
  it('is the same for every letter case of one address', () => {
    expect(emailKey('Ann@Example.COM')).toBe(emailKey('ann@example.com'));
    expect(emailKey('ann@example.com')).not.toBe(emailKey('anne@example.com'));
  });
});

describe('oneIdentifier', () => {
  it('takes exactly one of phone and email', () => {
    expect(oneIdentifier({ phone: '+15551234567' })).toEqual({
      kind: 'phone',
      input: '+15551234567',
    });
    expect(oneIdentifier({ phone: null, email: 'a@b.c' })).toEqual({
      kind: 'email',
      input: 'a@b.c',
    });
    expectBadInput(() => oneIdentifier({}), 'phone');
    expectBadInput(() => oneIdentifier({ phone: null, email: null }), 'phone');
    expectBadInput(() => oneIdentifier({ phone: '+15551234567', email: 'a@b.c' }), 'email');
    // An empty string is given (and then fails its own syntax check), not absent.
    expect(oneIdentifier({ email: '' })).toEqual({ kind: 'email', input: '' });
  });
});
