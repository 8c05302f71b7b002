import { describe, expect, it } from 'vitest';
import { parseEmoji, reactionUserIds, type ReactionGroupView } from '../../src/domain/reactions.js';
import { expectBadInput } from './domain-error.js';

describe('reaction emojis', () => {
  it.each([
    ['a pictograph', '👍'],
    ['a text-style pictograph with its emoji selector', '❤️'],
    ['a text-style pictograph without it', '❤'],
    ['a skin tone', '👍🏽'],
    ['a flag', '🇫🇷'],
    ['a keycap', '1️⃣'],
    ['a keycap without the emoji selector', '#⃣'],
    ['a ZWJ family', '👨‍👩‍👧‍👦'],
    ['a ZWJ sequence with skin tones', '🧑🏻‍🤝‍🧑🏿'],
    ['a ZWJ sequence with selectors', '🏳️‍🌈'],
    ['a profession with gender', '🏋🏻‍♀️'],
    ['a tag flag', '🏴󠁧󠁢󠁳󠁣󠁴󠁿'],
    ['a short name', ':thumbsup:'],
    ['a short name with + - _ and digits', ':+1_flag-fr2:'],
  ])('accepts %s', (_what, emoji) => {
    expect(parseEmoji(emoji)).toBe(emoji);
  });

  it('normalizes to NFC', () => {
    // A text-style pictograph followed by a decomposed character is two graphemes (refused);
    // an emoji is left as it is by NFC, and the result is always NFC.
    const emoji = '👍🏽';
    expect(parseEmoji(emoji.normalize('NFD'))).toBe(emoji.normalize('NFC'));
  });

  it.each([
    ['empty', ''],
    ['text', 'ok'],
    ['a letter', 'a'],
    ['a digit alone', '1'],
    ['digits', '42'],
    ['# alone', '#'],
    ['two emojis', '👍👍'],
    ['an emoji and text', '👍 yes'],
    ['an emoji with a space', ' 👍'],
    ['a skin tone alone', '🏽'],
    ['a regional indicator alone', '🇫'],
    ['three regional indicators', '🇫🇷🇫'],
    ['a ZWJ alone', '\u200D'],
    ['an emoji selector alone', '\uFE0F'],
    ['a combining mark on a letter', 'é'],
    ['a lone surrogate', '\uD83D'],
    ['a short name in capitals', ':ThumbsUp:'],
    ['an empty short name', '::'],
    ['a short name of 33 characters', `:${'a'.repeat(33)}:`],
    ['a short name with a space', ':thumbs up:'],
    ['a short name without its colons', 'thumbsup'],
    ['a very long ZWJ chain', Array(40).fill('👍').join('\u200D')],
  ])('refuses %s', (_what, emoji) => {
    expectBadInput(() => parseEmoji(emoji), 'emoji');
  });
});

describe('reaction users', () => {
  const group: ReactionGroupView = {
    conversationId: 'c',
    seq: 1,
    emoji: '👍',
    count: 25,
    reactedByMe: false,
    firstUserIds: Array.from({ length: 20 }, (_, i) => `u${i}`),
  };

  it('are the first 3 by default, up to 20 when asked', () => {
    expect(reactionUserIds(group, undefined)).toEqual(['u0', 'u1', 'u2']);
    expect(reactionUserIds(group, null)).toHaveLength(3);
    expect(reactionUserIds(group, 0)).toEqual([]);
    expect(reactionUserIds(group, 20)).toHaveLength(20);
  });

  it.each([-1, 21, 1.5])('refuses first: %s', (first) => {
    expectBadInput(() => reactionUserIds(group, first), 'first');
  });
});
