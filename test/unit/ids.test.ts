import { randomUUID } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { decodeMessageId, encodeMessageId, parseMessageId } from '../../src/domain/ids.js';
import { expectBadInput } from './domain-error.js';

const MAX_SEQ = 2 ** 31 - 1;

/** A message id built by hand from a conversation uuid and a raw 32-bit seq. */
function rawId(conversationId: string, seq: number): string {
  const bytes = Buffer.alloc(20);
  Buffer.from(conversationId.replace(/-/g, ''), 'hex').copy(bytes, 0);
  bytes.writeUInt32BE(seq, 16);
  return bytes.toString('base64url');
}

describe('message ids', () => {
  it('round-trip random conversations and seqs across 1..2^31-1', () => {
    for (let i = 0; i < 500; i++) {
      const key = { conversationId: randomUUID(), seq: 1 + Math.floor(Math.random() * MAX_SEQ) };
      expect(decodeMessageId(encodeMessageId(key))).toEqual(key);
    }
  });

  it.each([1, 2, 255, 256, 65_535, 65_536, 16_777_216, MAX_SEQ])('round-trip seq %i', (seq) => {
    const key = { conversationId: randomUUID(), seq };
    expect(decodeMessageId(encodeMessageId(key))).toEqual(key);
  });

  it('are 27 URL-safe characters', () => {
    const id = encodeMessageId({ conversationId: randomUUID(), seq: 123 });
    expect(id).toHaveLength(27);
    expect(id).toMatch(/^[A-Za-z0-9_-]{27}$/);
  });

  it('differ between messages of one conversation and between conversations', () => {
    const conversationId = randomUUID();
    const ids = [
      encodeMessageId({ conversationId, seq: 1 }),
      encodeMessageId({ conversationId, seq: 2 }),
      encodeMessageId({ conversationId: randomUUID(), seq: 1 }),
    ];
    expect(new Set(ids).size).toBe(3);
  });
});

describe('decodeMessageId', () => {
  const valid = encodeMessageId({ conversationId: randomUUID(), seq: 7 });

  it.each([
    ['empty', ''],
    ['one character short', valid.slice(0, 26)],
    ['one character long', valid + 'A'],
    ['a bare uuid', randomUUID()],
    ['a "+" (standard base64)', '+' + valid.slice(1)],
    ['a "/" (standard base64)', valid.slice(0, 26) + '/'],
    ['padding', valid.slice(0, 26) + '='],
    ['a space', valid.slice(0, 13) + ' ' + valid.slice(14)],
    ['a non-ASCII letter', 'é' + valid.slice(1)],
  ])('returns null for %s', (_label, id) => {
    expect(decodeMessageId(id)).toBeNull();
  });

  it('returns null for seq 0 and for seqs beyond 2^31-1', () => {
    const conversationId = randomUUID();
    expect(decodeMessageId(rawId(conversationId, 0))).toBeNull();
    expect(decodeMessageId(rawId(conversationId, 2 ** 31))).toBeNull();
    expect(decodeMessageId(rawId(conversationId, 2 ** 32 - 1))).toBeNull();
    expect(decodeMessageId(rawId(conversationId, MAX_SEQ))).toEqual({
      conversationId,
      seq: MAX_SEQ,
    });
  });
});

describe('parseMessageId', () => {
  it('returns the key of a valid id', () => {
    const key = { conversationId: randomUUID(), seq: 99 };
    expect(parseMessageId(encodeMessageId(key))).toEqual(key);
  });

  it('rejects an invalid id with BAD_USER_INPUT on the "messageId" field', () => {
    const error = expectBadInput(() => parseMessageId('not-a-message-id'), 'messageId');
    expect(error.message).toContain('not-a-message-id');
  });

  it('rejects seq 0 and names the field it was given', () => {
    expectBadInput(() => parseMessageId(rawId(randomUUID(), 0), 'after'), 'after');
  });

  it('does not echo a huge input back in the error message', () => {
    const error = expectBadInput(() => parseMessageId('x'.repeat(100_000)));
    expect(error.message.length).toBeLessThan(200);
  });
});

describe('message id spelling', () => {
  it('accepts only the canonical spelling of an id, so one message has one id', () => {
    const id = encodeMessageId({ conversationId: randomUUID(), seq: 5 });
    const last = id.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    expect(decodeMessageId(id)).not.toBeNull();
    expect(decodeMessageId(id.slice(0, -1) + sibling)).toBeNull();
  });
});
