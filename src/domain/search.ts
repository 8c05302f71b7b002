// searchMessages: the caller's messages that match a query, best first, each with a snippet.
// What is searched is what the caller's history shows them: the conversations they are in now,
// all of each one's messages (a member added later sees the earlier history too), never a
// deleted body, never a SYSTEM message.
import { searchMessageRows, type SearchHit, type SearchKey } from '../db/search.js';
import type { MessageRow } from '../db/schema.js';
import type { Session } from './context.js';
import { decode, encode, invalidCursor } from './cursor.js';
import { badInput, checkText, conversationNotFound } from './errors.js';
import { isUuid } from './ids.js';
import { checkPageSize } from './pagination.js';

export const searchLimits = Object.freeze({
  maxQueryLength: 200,
  /** Shorter queries match too much to search every conversation (and no trigram serves them). */
  minQueryLengthEverywhere: 3,
  defaultPageSize: 20,
  maxPageSize: 50,
  /** Characters (grapheme clusters) of context on each side of a match in a snippet. */
  snippetContext: 60,
});

export interface SearchMessagesArgs {
  query: string;
  conversationId?: string | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}

export interface MessageSearchEdge {
  cursor: string;
  node: MessageRow;
  snippet: string;
}

export interface MessageSearchConnection {
  edges: MessageSearchEdge[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

const PREFIX = 's1:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A match's place in the results: its rank, time, conversation and seq. */
export const encodeSearchCursor = (k: SearchKey): string =>
  encode(`${PREFIX}${k.rank}:${k.createdAt.getTime()}:${k.conversationId}:${k.seq}`);

export function decodeSearchCursor(cursor: string, field = 'after'): SearchKey {
  const text = decode(cursor);
  const match = text
    ? /^s1:([0-9.eE+-]{1,30}):(\d{1,15}):([0-9a-f-]{36}):(\d{1,10})$/.exec(text)
    : null;
  const rank = match ? Number(match[1]) : NaN;
  if (
    !match ||
    !Number.isFinite(rank) ||
    !UUID.test(match[3]!) ||
    Number(match[2]) > 253_402_300_799_999 ||
    Number(match[4]) > 2_147_483_647
  ) {
    throw invalidCursor(field);
  }
  return {
    rank,
    createdAt: new Date(Number(match[2])),
    conversationId: match[3]!,
    seq: Number(match[4]),
  };
}

/** The query as searched: trimmed, 1–200 characters. */
export function parseSearchQuery(query: string): string {
  const text = checkText(query, 'query').trim();
  const length = [...text].length;
  if (length === 0 || length > searchLimits.maxQueryLength) {
    throw badInput(`query must be 1–${searchLimits.maxQueryLength} characters.`, 'query');
  }
  return text;
}

/** The ILIKE pattern that finds `text` anywhere, its own %, _ and \ taken literally. */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, '\\$&')}%`;

function parseFirst(first: number | null | undefined): number {
  if (first === null || first === undefined) return searchLimits.defaultPageSize;
  return checkPageSize(first, 'first', searchLimits.maxPageSize);
}

export async function searchMessages(
  session: Session,
  args: SearchMessagesArgs,
): Promise<MessageSearchConnection> {
  const text = parseSearchQuery(args.query);
  const size = parseFirst(args.first);
  const after = args.after != null ? decodeSearchCursor(args.after) : null;
  const conversationId = args.conversationId ?? null;
  if (conversationId === null && [...text].length < searchLimits.minQueryLengthEverywhere) {
    throw badInput(
      `query must be at least ${searchLimits.minQueryLengthEverywhere} characters across all conversations; give a conversationId to search one for shorter text.`,
      'query',
    );
  }
  await session.deps.rateLimiter.consume('searchMessages', session.userId);
  if (conversationId !== null) {
    // Not a member (now): as if it did not exist.
    const view = isUuid(conversationId)
      ? await session.loaders.conversation.load(conversationId)
      : undefined;
    if (!view) throw conversationNotFound();
  }
  // From a replica that has the reader's own writes, or the primary (db/replicas.ts).
  const hits = await session.deps.historyReads.read(session.userId, (db) =>
    searchMessageRows(db, {
      text,
      pattern: containsPattern(text),
      userId: session.userId,
      conversationId,
      after,
      limit: size + 1,
    }),
  );
  const edges = hits.slice(0, size).map((hit) => ({
    cursor: encodeSearchCursor(hit.key),
    node: hit.message,
    snippet: snippetOf(hit, text),
  }));
  return {
    edges,
    pageInfo: {
      hasNextPage: hits.length > size,
      // A cursor names a match that came before (deleted since, at worst).
      hasPreviousPage: after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** The snippet of a match: around the query where the body has it, else ts_headline's words. */
export function snippetOf(hit: Pick<SearchHit, 'message' | 'headline'>, query: string): string {
  const body = hit.message.body ?? '';
  const around = snippetAround(body, query);
  if (around !== null) return around;
  if (hit.headline !== null) {
    const plain = hit.headline.replace(/[«»]/g, '');
    return `${body.startsWith(plain) ? '' : '…'}${hit.headline}${body.endsWith(plain) ? '' : '…'}`;
  }
  const parts = [...graphemes.segment(body)];
  const limit = 2 * searchLimits.snippetContext;
  return parts.length > limit
    ? `${parts
        .slice(0, limit)
        .map((p) => p.segment)
        .join('')}…`
    : body;
}

/**
 * The body around the first occurrence of `query` (case aside), marked «»: whole grapheme
 * clusters only (an emoji, a letter with its accents), `snippetContext` of them on each side,
 * "…" where the body goes on. Null when the body does not contain the query.
 */
export function snippetAround(body: string, query: string): string | null {
  const at = indexOfIgnoringCase(body, query);
  if (at === null) return null;
  const parts = [...graphemes.segment(body)];
  // The clusters the match touches, [first, last).
  let first = parts.findIndex((p) => p.index + p.segment.length > at.start);
  let last = parts.findIndex((p) => p.index >= at.end);
  if (first < 0) first = parts.length;
  if (last < 0) last = parts.length;
  const context = searchLimits.snippetContext;
  const from = Math.max(0, first - context);
  const to = Math.min(parts.length, last + context);
  const text = (a: number, b: number) =>
    parts
      .slice(a, b)
      .map((p) => p.segment)
      .join('');
  return `${from > 0 ? '…' : ''}${text(from, first)}«${text(first, last)}»${text(last, to)}${to < parts.length ? '…' : ''}`;
}

/** Where `query` first occurs in `body`, comparing lower case (UTF-16 offsets into `body`). */
function indexOfIgnoringCase(body: string, query: string): { start: number; end: number } | null {
  const q = query.toLowerCase();
  const lower = body.toLowerCase();
  if (lower.length === body.length) {
    const start = lower.indexOf(q);
    return start < 0 ? null : { start, end: start + q.length };
  }
  // Lower-casing changed lengths (a few letters, such as İ, become two): compare in place.
  // (Lower-casing never shortens text, so a match is at most as long as the query.)
  for (let start = 0; start < body.length; start++) {
    if (!q.startsWith(body.charAt(start).toLowerCase())) continue;
    for (let end = start + 1; end <= body.length && end - start <= q.length; end++) {
      if (body.slice(start, end).toLowerCase() === q) return { start, end };
    }
  }
  return null;
}
