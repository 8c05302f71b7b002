import { randomUUID } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import {
  decodeConversationCursor,
  decodeMessageCursor,
  encodeConversationCursor,
  encodeMessageCursor,
} from '../../src/domain/cursor.js';
import {
  decodeStreamCursor,
  encodeStreamCursor,
  REBASE_AFTER,
  StreamPositions,
} from '../../src/domain/streams/stream-cursor.js';
import { expectBadInput } from './domain-error.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const MAX_SEQ = 2_147_483_647;

describe('message cursors', () => {
  it.each([1, 2, 42, 1_000, 65_536, 123_456_789, MAX_SEQ])('round-trips seq %i', (seq) => {
    expect(decodeMessageCursor(encodeMessageCursor(seq))).toBe(seq);
  });

  it('are opaque, URL-safe strings that differ per seq', () => {
    const cursors = [1, 2, 10, 12_345].map(encodeMessageCursor);
    for (const cursor of cursors) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(encodeMessageCursor(12_345)).not.toContain('12345');
    expect(new Set(cursors).size).toBe(cursors.length);
  });

  it.each([
    ['empty', ''],
    ['garbage with punctuation', 'not a cursor!'],
    ['percent signs', '%%%%'],
    ['the plain, unencoded text', 'm1:5'],
    ['an overlong string', 'A'.repeat(500)],
    ['base64 of other text', b64('hello world')],
    ['base64 of a number alone', b64('5')],
    ['a wrong prefix', b64('m2:5')],
    ['a prefix without a seq', b64('m1:')],
    ['a negative seq', b64('m1:-1')],
    ['a fractional seq', b64('m1:1.5')],
    ['letters for a seq', b64('m1:abc')],
    ['a seq followed by junk', b64('m1:5x')],
    ['a seq with a trailing newline', b64('m1:5\n')],
    ['a seq just above the 32-bit range', b64('m1:2147483648')],
    ['a huge seq', b64('m1:99999999999999999999')],
    ['an exponent', b64('m1:1e9')],
    ['a conversation cursor', encodeConversationCursor({ updatedAtMs: 1, id: randomUUID() })],
  ])('rejects %s with BAD_USER_INPUT', (_label, cursor) => {
    expectBadInput(() => decodeMessageCursor(cursor), 'after');
  });

  it('names the argument the cursor came in', () => {
    expectBadInput(() => decodeMessageCursor('garbage!', 'before'), 'before');
  });
});

describe('conversation cursors', () => {
  it('round-trips the sort key', () => {
    const key = { updatedAtMs: Date.parse('2024-05-01T12:34:56.789Z'), id: randomUUID() };
    expect(decodeConversationCursor(encodeConversationCursor(key))).toEqual(key);
  });

  it('round-trips the epoch and many random ids', () => {
    for (let i = 0; i < 50; i++) {
      const key = { updatedAtMs: i === 0 ? 0 : Math.floor(Math.random() * 4e12), id: randomUUID() };
      expect(decodeConversationCursor(encodeConversationCursor(key))).toEqual(key);
    }
  });

  it('are opaque, URL-safe strings that differ per conversation and time', () => {
    const id = randomUUID();
    const a = encodeConversationCursor({ updatedAtMs: 1_700_000_000_000, id });
    const b = encodeConversationCursor({ updatedAtMs: 1_700_000_000_001, id });
    const c = encodeConversationCursor({ updatedAtMs: 1_700_000_000_000, id: randomUUID() });
    for (const cursor of [a, b, c]) {
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(cursor).not.toContain(id);
    }
    expect(new Set([a, b, c]).size).toBe(3);
  });

  const id = randomUUID();
  it.each([
    ['empty', ''],
    ['garbage', '***'],
    ['base64 of other text', b64('hello world')],
    ['a message cursor', encodeMessageCursor(5)],
    ['a wrong prefix', b64(`c2:1700000000000:${id}`)],
    ['a missing time', b64(`c1::${id}`)],
    ['letters for a time', b64(`c1:abc:${id}`)],
    ['a negative time', b64(`c1:-5:${id}`)],
    ['a huge time', b64(`c1:${'9'.repeat(30)}:${id}`)],
    ['a missing id', b64('c1:1700000000000:')],
    ['an id that is not a uuid', b64('c1:1700000000000:not-a-uuid')],
    ['an id with junk after it', b64(`c1:1700000000000:${id}x`)],
    ['an id followed by another field', b64(`c1:1700000000000:${id}:extra`)],
  ])('rejects %s with BAD_USER_INPUT', (_label, cursor) => {
    expectBadInput(() => decodeConversationCursor(cursor), 'after');
  });

  it('names the argument the cursor came in', () => {
    expectBadInput(() => decodeConversationCursor(encodeMessageCursor(1), 'before'), 'before');
  });
});

describe('stream cursors', () => {
  const ids = Array.from({ length: 20 }, () => randomUUID());

  it.each([0, 1, 127, 128, 16_383, 16_384, MAX_SEQ])(
    'round-trip a position of %i, with and without a base',
    (position) => {
      const one = {
        kind: 'updated' as const,
        baseId: null,
        positions: new Map([[ids[0]!, position]]),
      };
      expect(decodeStreamCursor(encodeStreamCursor(one))).toEqual(one);
      const based = {
        kind: 'added' as const,
        baseId: ids[1]!,
        positions: new Map([
          [ids[2]!, position],
          [ids[3]!, 7],
        ]),
      };
      expect(decodeStreamCursor(encodeStreamCursor(based))).toEqual(based);
    },
  );

  it.each([
    ['garbage', 'not a cursor!'],
    ['a message cursor', encodeMessageCursor(5)],
    ['a one-conversation cursor naming two', b64('u\u0000') + 'A'],
    ['too long', 'A'.repeat(10_000)],
  ])('reject %s with BAD_USER_INPUT', (_name, cursor) => {
    expectBadInput(() => decodeStreamCursor(cursor), 'after');
  });

  it('rejects a position past the largest seq and a truncated entry', () => {
    const base = Buffer.from([0x61, 0]);
    const id = Buffer.from(ids[0]!.replaceAll('-', ''), 'hex');
    const tooBig = Buffer.concat([base, id, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f])]);
    expectBadInput(() => decodeStreamCursor(tooBig.toString('base64url')), 'after');
    const cut = Buffer.concat([base, id.subarray(0, 10)]);
    expectBadInput(() => decodeStreamCursor(cut.toString('base64url')), 'after');
  });

  it('carry only what moved since the base, and saves a new base past REBASE_AFTER', async () => {
    const saved: Map<string, number>[] = [];
    const save = (p: ReadonlyMap<string, number>) => {
      saved.push(new Map(p));
      return Promise.resolve(randomUUID());
    };
    const base = new Map(ids.map((id) => [id, 1]));
    const positions = new StreamPositions('added', randomUUID(), base, save);
    positions.set(ids[0]!, 1); // where the base has it: nothing to carry
    expect(decodeStreamCursor(positions.cursor()!).positions.size).toBe(0);
    for (const id of ids.slice(0, REBASE_AFTER)) positions.set(id, 2);
    expect(decodeStreamCursor(positions.cursor()!).positions.size).toBe(REBASE_AFTER);
    expect(saved).toHaveLength(0);
    positions.set(ids[REBASE_AFTER]!, 2);
    await new Promise((r) => setImmediate(r));
    expect(saved).toHaveLength(1);
    const after = decodeStreamCursor(positions.cursor()!);
    expect(after.positions.size).toBe(0);
    for (const id of ids) expect(positions.get(id)).toBe(ids.indexOf(id) <= REBASE_AFTER ? 2 : 1);
  });
});
