import { randomUUID } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import type { MemberRow } from '../../src/db/schema.js';
import { messageStatus, parseBody } from '../../src/domain/messages.js';
import { expectBadInput } from './domain-error.js';

describe('parseBody', () => {
  it('refuses text that would not come back as sent (NUL, lone surrogate, leading BOM)', () => {
    for (const body of ['a\u0000b', 'a\ud800b', '\uFEFF\u202Ehi'])
      expectBadInput(() => parseBody(body), 'body');
    // A BOM inside the text is kept as it is.
    expect(parseBody('a\uFEFFb')).toBe('a\uFEFFb');
  });

  it('accepts ordinary text unchanged', () => {
    expect(parseBody('hello')).toBe('hello');
    expect(parseBody('line one\nline two')).toBe('line one\nline two');
  });

  it.each([
    ['empty', ''],
    ['spaces', '   '],
    ['newlines and tabs', '\n\t \r\n'],
    ['no-break spaces', '\u00a0\u00a0'],
  ])('rejects a body that is %s', (_label, body) => {
    expectBadInput(() => parseBody(body), 'body');
  });

  it('accepts exactly 4,000 characters and rejects 4,001', () => {
    expect(parseBody('a'.repeat(4_000))).toHaveLength(4_000);
    const error = expectBadInput(() => parseBody('a'.repeat(4_001)), 'body');
    expect(error.message).toMatch(/4,?000/);
  });

  it('counts an emoji as one character, not two UTF-16 units', () => {
    const emoji4000 = '😀'.repeat(4_000);
    expect(emoji4000.length).toBe(8_000);
    expect(parseBody(emoji4000)).toBe(emoji4000);
    expectBadInput(() => parseBody('😀'.repeat(4_001)), 'body');
  });

  it('counts mixed text by characters', () => {
    expect(parseBody('a'.repeat(3_999) + '😀')).toHaveLength(4_001);
    expectBadInput(() => parseBody('a'.repeat(4_000) + '😀'), 'body');
  });

  it('rejects a megabyte body', () => {
    expectBadInput(() => parseBody('x'.repeat(1 << 20)), 'body');
  });
});

describe('messageStatus', () => {
  const conversationId = randomUUID();
  const [alice, bob, carol, dave] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];

  const member = (userId: string, lastReadSeq: number, lastDeliveredSeq: number): MemberRow => ({
    conversationId,
    userId,
    joinedAt: new Date('2024-01-01T00:00:00Z'),
    lastReadSeq,
    joinedSeq: 0,
    joinedChangeSeq: 0,
    lastDeliveredSeq,
    mutedUntil: null,
    role: 'MEMBER',
    lastReadAt: null,
  });
  const fromAlice = (seq: number) => ({ seq, senderId: alice });

  describe('in a 1:1', () => {
    it('is SENT while the other member has neither received nor read it', () => {
      expect(messageStatus(fromAlice(5), [member(alice, 5, 5), member(bob, 0, 0)])).toBe('SENT');
      expect(messageStatus(fromAlice(5), [member(alice, 5, 5), member(bob, 4, 4)])).toBe('SENT');
    });

    it('is DELIVERED once the other member received it but has not read it', () => {
      expect(messageStatus(fromAlice(5), [member(alice, 5, 5), member(bob, 4, 5)])).toBe(
        'DELIVERED',
      );
      expect(messageStatus(fromAlice(5), [member(alice, 5, 5), member(bob, 0, 9)])).toBe(
        'DELIVERED',
      );
    });

    it('is READ once the other member read up to it or beyond', () => {
      expect(messageStatus(fromAlice(5), [member(alice, 5, 5), member(bob, 5, 5)])).toBe('READ');
      expect(messageStatus(fromAlice(5), [member(alice, 5, 5), member(bob, 8, 8)])).toBe('READ');
    });

    it("ignores the sender's own row", () => {
      // The sender has read nothing, yet the recipient has: READ.
      expect(messageStatus(fromAlice(5), [member(alice, 0, 0), member(bob, 5, 5)])).toBe('READ');
      // The sender is far ahead, the recipient has nothing: still SENT.
      expect(messageStatus(fromAlice(5), [member(alice, 99, 99), member(bob, 0, 0)])).toBe('SENT');
    });

    it('differs per message of the same conversation', () => {
      const members = [member(alice, 10, 10), member(bob, 3, 6)];
      expect(messageStatus(fromAlice(2), members)).toBe('READ');
      expect(messageStatus(fromAlice(3), members)).toBe('READ');
      expect(messageStatus(fromAlice(5), members)).toBe('DELIVERED');
      expect(messageStatus(fromAlice(7), members)).toBe('SENT');
    });
  });

  describe('in a group', () => {
    it('is READ only when every other member has read it', () => {
      const all = [member(alice, 0, 0), member(bob, 5, 5), member(carol, 6, 6), member(dave, 5, 9)];
      expect(messageStatus(fromAlice(5), all)).toBe('READ');
    });

    it('is DELIVERED, not READ, while one member has received but not read it', () => {
      const members = [
        member(alice, 5, 5),
        member(bob, 5, 5),
        member(carol, 5, 5),
        member(dave, 4, 5),
      ];
      expect(messageStatus(fromAlice(5), members)).toBe('DELIVERED');
    });

    it('is SENT while one member has not even received it', () => {
      const members = [
        member(alice, 5, 5),
        member(bob, 9, 9),
        member(carol, 9, 9),
        member(dave, 0, 4),
      ];
      expect(messageStatus(fromAlice(5), members)).toBe('SENT');
    });

    it('does not depend on the order of the members', () => {
      const members = [
        member(bob, 5, 5),
        member(carol, 4, 5),
        member(alice, 0, 0),
        member(dave, 5, 5),
      ];
      expect(messageStatus(fromAlice(5), members)).toBe('DELIVERED');
      expect(messageStatus(fromAlice(5), [...members].reverse())).toBe('DELIVERED');
    });

    it('judges from the sender of the message, whoever that is', () => {
      const members = [member(alice, 5, 5), member(bob, 0, 0), member(carol, 5, 5)];
      // Bob has read nothing: Alice's message is not read by everyone, Bob's own message is.
      expect(messageStatus({ seq: 5, senderId: alice }, members)).toBe('SENT');
      expect(messageStatus({ seq: 5, senderId: bob }, members)).toBe('READ');
    });
  });
});
