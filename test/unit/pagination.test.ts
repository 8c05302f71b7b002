import { describe, it, expect } from 'vitest';
import { decodeMessageCursor, encodeMessageCursor } from '../../src/domain/cursor.js';
import { parseConnectionArgs, toConnection } from '../../src/domain/pagination.js';
import type { ConnectionArgs } from '../../src/domain/pagination.js';
import { expectBadInput } from './domain-error.js';

const parse = (args: ConnectionArgs) => parseConnectionArgs(args, decodeMessageCursor);
const cursor = encodeMessageCursor;

describe('parseConnectionArgs: the default window', () => {
  it('without arguments is the newest page of 50', () => {
    expect(parse({})).toEqual({ direction: 'backward', size: 50, after: null, before: null });
  });

  it('treats null arguments like missing ones', () => {
    expect(parse({ first: null, after: null, last: null, before: null })).toEqual({
      direction: 'backward',
      size: 50,
      after: null,
      before: null,
    });
  });

  it('with only "after" syncs forward from that cursor', () => {
    expect(parse({ after: cursor(10) })).toEqual({
      direction: 'forward',
      size: 50,
      after: 10,
      before: null,
    });
  });

  it('with only "before" pages back into history from that cursor', () => {
    expect(parse({ before: cursor(10) })).toEqual({
      direction: 'backward',
      size: 50,
      after: null,
      before: 10,
    });
  });

  it('with both "after" and "before" takes the newest page between them', () => {
    expect(parse({ after: cursor(3), before: cursor(90) })).toEqual({
      direction: 'backward',
      size: 50,
      after: 3,
      before: 90,
    });
  });
});

describe('parseConnectionArgs: first and last', () => {
  it('"first" reads forward', () => {
    expect(parse({ first: 10, after: cursor(4) })).toEqual({
      direction: 'forward',
      size: 10,
      after: 4,
      before: null,
    });
  });

  it('"last" reads backward (the newest N)', () => {
    expect(parse({ last: 10 })).toEqual({
      direction: 'backward',
      size: 10,
      after: null,
      before: null,
    });
    expect(parse({ last: 5, before: cursor(20) })).toMatchObject({
      direction: 'backward',
      before: 20,
    });
  });

  it('accepts the bounds 0 and 100', () => {
    expect(parse({ first: 0 }).size).toBe(0);
    expect(parse({ last: 0 }).size).toBe(0);
    expect(parse({ first: 100 }).size).toBe(100);
    expect(parse({ last: 100 }).size).toBe(100);
  });

  it.each([101, 1_000, 1_000_000])('rejects first: %i instead of capping it', (first) => {
    const error = expectBadInput(() => parse({ first }), 'first');
    expect(error.message).toContain('100');
  });

  it.each([101, 1_000, 1_000_000])('rejects last: %i instead of capping it', (last) => {
    const error = expectBadInput(() => parse({ last }), 'last');
    expect(error.message).toContain('100');
  });

  it.each([-1, -100])('rejects a negative size (%i)', (size) => {
    expectBadInput(() => parse({ first: size }), 'first');
    expectBadInput(() => parse({ last: size }), 'last');
  });

  it.each([2.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'rejects a size that is not whole (%s)',
    (size) => {
      expectBadInput(() => parse({ first: size }), 'first');
      expectBadInput(() => parse({ last: size }), 'last');
    },
  );

  it.each([
    [1, 1],
    [0, 0],
    [10, 200],
  ])('rejects first: %i together with last: %i', (first, last) => {
    expectBadInput(() => parse({ first, last }));
  });
});

describe('parseConnectionArgs: cursors', () => {
  it('rejects a bad "after" cursor, naming "after"', () => {
    expectBadInput(() => parse({ first: 10, after: 'garbage!' }), 'after');
  });

  it('rejects a bad "before" cursor, naming "before"', () => {
    expectBadInput(() => parse({ last: 10, before: 'garbage!' }), 'before');
  });

  it('decodes cursors with the decoder it is given, telling it which argument it is', () => {
    const seen: string[] = [];
    const window = parseConnectionArgs({ after: 'A', before: 'B' }, (value, field) => {
      seen.push(`${field}=${value}`);
      return value.toLowerCase();
    });
    expect(seen.sort()).toEqual(['after=A', 'before=B']);
    expect(window).toMatchObject({ after: 'a', before: 'b' });
  });
});

describe('toConnection', () => {
  const nodes = [{ seq: 3 }, { seq: 4 }, { seq: 5 }];
  const byCursor = (n: { seq: number }) => encodeMessageCursor(n.seq);

  it('keeps the order of the nodes and gives each edge its own cursor', () => {
    const connection = toConnection(nodes, byCursor, false, false);
    expect(connection.edges.map((e) => e.node)).toEqual(nodes);
    expect(connection.edges.map((e) => decodeMessageCursor(e.cursor))).toEqual([3, 4, 5]);
  });

  it('sets startCursor to the first edge and endCursor to the last', () => {
    const { edges, pageInfo } = toConnection(nodes, byCursor, true, false);
    expect(pageInfo.startCursor).toBe(edges[0]!.cursor);
    expect(pageInfo.endCursor).toBe(edges[2]!.cursor);
    expect(decodeMessageCursor(pageInfo.startCursor!)).toBe(3);
    expect(decodeMessageCursor(pageInfo.endCursor!)).toBe(5);
  });

  it('passes hasPreviousPage and hasNextPage through', () => {
    expect(toConnection(nodes, byCursor, true, false).pageInfo).toMatchObject({
      hasPreviousPage: true,
      hasNextPage: false,
    });
    expect(toConnection(nodes, byCursor, false, true).pageInfo).toMatchObject({
      hasPreviousPage: false,
      hasNextPage: true,
    });
  });

  it('gives null cursors for an empty page', () => {
    expect(toConnection([], byCursor, false, false)).toEqual({
      edges: [],
      pageInfo: { hasPreviousPage: false, hasNextPage: false, startCursor: null, endCursor: null },
    });
  });

  it('gives one page of one node the same start and end cursor', () => {
    const { pageInfo } = toConnection([{ seq: 9 }], byCursor, false, false);
    expect(pageInfo.startCursor).not.toBeNull();
    expect(pageInfo.startCursor).toBe(pageInfo.endCursor);
  });

  it('its cursors page on: endCursor as "after" continues after the last node', () => {
    const { pageInfo } = toConnection(nodes, byCursor, false, true);
    expect(parse({ first: 2, after: pageInfo.endCursor })).toMatchObject({
      direction: 'forward',
      after: 5,
    });
    expect(parse({ last: 2, before: pageInfo.startCursor })).toMatchObject({
      direction: 'backward',
      before: 3,
    });
  });
});
