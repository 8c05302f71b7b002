import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeMessageCursor } from '../../src/domain/cursor.js';
import { DomainError } from '../../src/domain/errors.js';
import { fromWire, messageEvent } from '../../src/domain/events.js';
import { encodeMessageId } from '../../src/domain/ids.js';
import { maxMentions, parseMentionUserIds } from '../../src/domain/mentions.js';
import { pushPayload } from '../../src/domain/notifications.js';
import { parseRepliesArgs, parseReplyToId } from '../../src/domain/replies.js';
import type { MessageRow } from '../../src/db/schema.js';
import type { MessageWire } from '../../src/realtime/events.js';
import { expectBadInput } from './domain-error.js';

describe('mentionUserIds', () => {
  it('is empty when absent', () => {
    expect(parseMentionUserIds(undefined)).toEqual([]);
    expect(parseMentionUserIds(null)).toEqual([]);
    expect(parseMentionUserIds([])).toEqual([]);
  });

  it('keeps each user once, where first given, in lowercase', () => {
    const [x, y] = [randomUUID(), randomUUID()];
    expect(parseMentionUserIds([y, x.toUpperCase(), y, x])).toEqual([y, x]);
  });

  it('takes 50 people, counted once each, and refuses a 51st', () => {
    const ids = Array.from({ length: maxMentions }, () => randomUUID());
    expect(parseMentionUserIds([...ids, ...ids])).toHaveLength(50);
    expectBadInput(() => parseMentionUserIds([...ids, randomUUID()]), 'mentionUserIds');
  });

  it.each(['', 'bob', '123', `${randomUUID()}x`])('refuses %j, which names no member', (id) => {
    expectBadInput(() => parseMentionUserIds([randomUUID(), id]), 'mentionUserIds');
  });
});

describe('replyToId', () => {
  const conversationId = randomUUID();
  const notFound = (fn: () => unknown) => {
    let thrown: unknown;
    try {
      fn();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    expect((thrown as DomainError).code).toBe('NOT_FOUND');
    expect((thrown as DomainError).extensions).toEqual({ field: 'replyToId' });
  };

  it('is none when absent', () => {
    expect(parseReplyToId(undefined, conversationId)).toBeNull();
    expect(parseReplyToId(null, null)).toBeNull();
  });

  it('names a message of the conversation', () => {
    const id = encodeMessageId({ conversationId, seq: 7 });
    expect(parseReplyToId(id, conversationId)).toEqual({ conversationId, seq: 7 });
    // Not known yet (toPhone): checked once the 1:1 is found.
    expect(parseReplyToId(id, null)).toEqual({ conversationId, seq: 7 });
  });

  it('is NOT_FOUND for a message elsewhere or something that is no message id', () => {
    notFound(() =>
      parseReplyToId(encodeMessageId({ conversationId: randomUUID(), seq: 1 }), conversationId),
    );
    notFound(() => parseReplyToId('not-a-message-id', conversationId));
    notFound(() => parseReplyToId('', null));
  });
});

describe('replies(first, after)', () => {
  it('defaults to the first 50', () => {
    expect(parseRepliesArgs({})).toEqual({ afterSeq: 0, size: 50 });
  });

  it('pages after a cursor, up to 100', () => {
    expect(parseRepliesArgs({ first: 100, after: encodeMessageCursor(41) })).toEqual({
      afterSeq: 41,
      size: 100,
    });
    expect(parseRepliesArgs({ first: 0 })).toEqual({ afterSeq: 0, size: 0 });
  });

  it.each([101, -1, 1.5])('refuses first: %d', (first) => {
    expectBadInput(() => parseRepliesArgs({ first }), 'first');
  });

  it('refuses a cursor it did not issue', () => {
    expectBadInput(() => parseRepliesArgs({ after: 'nope' }), 'after');
  });
});

describe('replies and mentions as they travel', () => {
  const row: MessageRow = {
    conversationId: randomUUID(),
    seq: 3,
    senderId: randomUUID(),
    body: 'hi @you',
    clientMessageId: null,
    createdAt: new Date('2026-01-01T00:00:00.000Z'),
    editedAt: null,
    deletedAt: null,
    attachmentCount: 0,
    changeSeq: null,
    kind: 'USER',
    systemEvent: null,
    replyToSeq: 1,
    replyCount: 2,
    mentionUserIds: [randomUUID()],
  };
  const live = { sender: { id: row.senderId, phone: null, displayName: 'A' }, memberVersion: 1 };

  it('carries the reply, its count and the mentions', () => {
    const wire = JSON.parse(
      JSON.stringify(messageEvent('messageAdded', row, live).message),
    ) as MessageWire;
    expect(fromWire(wire)).toMatchObject({
      replyToSeq: 1,
      replyCount: 2,
      mentionUserIds: row.mentionUserIds,
    });
  });

  it('leaves them out when unset, and reads an event without them as none', () => {
    const plain = { ...row, replyToSeq: null, replyCount: 0, mentionUserIds: null };
    const wire = messageEvent('messageAdded', plain, live).message;
    for (const field of ['replyToSeq', 'replyCount', 'mentionUserIds']) {
      expect(wire).not.toHaveProperty(field);
    }
    expect(fromWire({ ...wire })).toMatchObject({
      replyToSeq: null,
      replyCount: 0,
      mentionUserIds: null,
    });
  });
});

describe('push payload of a mention', () => {
  const message = {
    conversationId: randomUUID(),
    seq: 4,
    senderName: 'Ann',
    body: '@Bob lunch?',
    attachmentCount: 0,
  };

  it('says mentioned only when the message mentions the recipient', () => {
    expect(pushPayload({ ...message, mentioned: true }, true)).toMatchObject({ mentioned: true });
    expect(pushPayload({ ...message, mentioned: false }, true)).not.toHaveProperty('mentioned');
    expect(pushPayload(message, true)).not.toHaveProperty('mentioned');
  });
});
