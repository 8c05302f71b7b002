// The directory of PUBLIC groups anyone signed in can find and join: largest first, optionally
// narrowed by a search of titles and descriptions. Each group is shown as the caller sees it
// (an outsider sees its details, not its members or messages).
import type { ConversationView } from '../db/conversations.js';
import {
  anyPublicUpTo,
  listPublicConversations,
  type PublicKey,
} from '../db/public-conversations.js';
import type { Session } from './context.js';
import { decode, encode, invalidCursor } from './cursor.js';
import { badInput, checkText } from './errors.js';
import { parseConnectionArgs, toConnection, type Connection } from './pagination.js';

const PREFIX = 'p1:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A page of the directory without `first`. */
export const defaultPublicPageSize = 20;
export const maxSearchLength = 100;

/** The cursor of a group in the directory: its sort key (member count, id). */
export const encodePublicCursor = (k: PublicKey): string =>
  encode(`${PREFIX}${k.memberCount}:${k.id}`);

export function decodePublicCursor(cursor: string, field = 'after'): PublicKey {
  const text = decode(cursor);
  const match = text ? /^p1:(\d{1,10}):(.+)$/.exec(text) : null;
  if (!match || !UUID.test(match[2]!) || Number(match[1]) > 2_147_483_647) {
    throw invalidCursor(field);
  }
  return { memberCount: Number(match[1]), id: match[2]! };
}

/**
 * The ILIKE pattern of a search, matching it anywhere, with its own %, _ and \ taken literally;
 * null (no filter) when the search is absent or blank.
 */
export function searchPattern(search: string | null | undefined): string | null {
  if (search === null || search === undefined) return null;
  const text = checkText(search, 'search').trim();
  if (text === '') return null;
  if ([...text].length > maxSearchLength) {
    throw badInput(`search must be at most ${maxSearchLength} characters.`, 'search');
  }
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

export interface PublicConversationsArgs {
  search?: string | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}

export async function publicConversations(
  session: Session,
  args: PublicConversationsArgs,
): Promise<Connection<ConversationView>> {
  const pattern = searchPattern(args.search);
  // Always forward (the field has no last/before); first is checked like any page size.
  const window = parseConnectionArgs(
    { first: args.first ?? defaultPublicPageSize, after: args.after },
    decodePublicCursor,
  );
  await session.deps.rateLimiter.consume('publicConversations', session.userId);
  const db = session.deps.db;
  const rows = await listPublicConversations(db, session.userId, {
    pattern,
    after: window.after,
    limit: window.size + 1,
  });
  const page = rows.slice(0, window.size);
  // Relay: reading forward, hasPreviousPage says whether anything comes before `after`.
  const hasPreviousPage = window.after !== null && (await anyPublicUpTo(db, window.after, pattern));
  return toConnection(
    page,
    (c) => encodePublicCursor({ memberCount: c.memberCount, id: c.id }),
    hasPreviousPage,
    rows.length > window.size,
  );
}
