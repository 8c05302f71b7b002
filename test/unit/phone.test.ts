import { describe, it, expect } from 'vitest';
import { normalizePhone, parsePhone } from '../../src/domain/phone.js';
import { expectBadInput } from './domain-error.js';

describe('normalizePhone', () => {
  it.each([
    ['+15551234567', '+15551234567'],
    ['+1 (555) 123-4567', '+15551234567'],
    ['+44 20 7946 0958', '+442079460958'],
    ['+49.30.1234.5678', '+493012345678'],
    ['+33-1-23-45-67-89', '+33123456789'],
    ['+[1] [555] 123 4567', '+15551234567'],
    ['  +15551234567  ', '+15551234567'],
    ['+1\t555\t123\t4567', '+15551234567'],
    ['+ 1 555 123 4567', '+15551234567'],
  ])('accepts %j as %s', (input, expected) => {
    expect(normalizePhone(input)).toBe(expected);
  });

  it('gives the same number however it was typed', () => {
    const forms = ['+1 (555) 123-4567', '+1.555.123.4567', '+1-555-123-4567', '+15551234567'];
    expect(new Set(forms.map(normalizePhone))).toEqual(new Set(['+15551234567']));
  });

  it('accepts exactly 8 and exactly 15 digits', () => {
    expect(normalizePhone('+12345678')).toBe('+12345678');
    expect(normalizePhone('+123456789012345')).toBe('+123456789012345');
  });

  it.each([
    ['7 digits', '+1234567'],
    ['16 digits', '+1234567890123456'],
    ['7 digits padded with separators', '+1-2-3-4-5-6-7'],
    ['a long run of digits', '+1' + '5'.repeat(100)],
  ])('rejects a number that is too short or too long (%s)', (_label, input) => {
    expect(normalizePhone(input)).toBeNull();
  });

  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['only separators', '(-. )'],
    ['only a plus', '+'],
    ['missing +', '15551234567'],
    ['00 international prefix instead of +', '0015551234567'],
    ['leading 0 after +', '+05551234567'],
    ['letters (vanity number)', '+1555CALLNOW'],
    ['one trailing letter', '+1555123456a'],
    ['an extension', '+1 555 123 4567 ext 2'],
    ['two pluses', '++15551234567'],
    ['plus in the middle', '+1555+1234567'],
    ['slashes', '+1/555/123/4567'],
    ['underscores', '+1_555_123_4567'],
    ['non-ASCII digits', '+١٥٥٥١٢٣٤٥٦٧'],
    ['a word', 'phone'],
  ])('rejects %s', (_label, input) => {
    expect(normalizePhone(input)).toBeNull();
  });
});

describe('parsePhone', () => {
  it('returns the E.164 form of a valid number', () => {
    expect(parsePhone('+1 (555) 123-4567')).toBe('+15551234567');
  });

  it('rejects an invalid number with BAD_USER_INPUT on the "phone" field', () => {
    const error = expectBadInput(() => parsePhone('555-1234'), 'phone');
    expect(error.message).toContain('555-1234');
    expect(error.message).toContain('+');
  });

  it('names the field it was given', () => {
    expectBadInput(() => parsePhone('', 'toPhone'), 'toPhone');
    expectBadInput(() => parsePhone('+05551234567', 'memberPhones'), 'memberPhones');
  });

  it('does not echo a huge input back in the error message', () => {
    const error = expectBadInput(() => parsePhone('9'.repeat(10_000)), 'phone');
    expect(error.message.length).toBeLessThan(300);
  });
});
