// Relay connection arguments, checked and reduced to one window: a direction and a size.
import { badInput } from './errors.js';
import { limits } from './limits.js';

export interface ConnectionArgs {
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
}

export interface PageWindow<C> {
  /** forward: the oldest `size` after `after`; backward: the newest `size` before `before` */
  readonly direction: 'forward' | 'backward';
  readonly size: number;
  readonly after: C | null;
  readonly before: C | null;
}

/** A page size as asked (`first`/`last`): a whole number up to `max` (never silently capped). */
export function checkPageSize(
  value: number,
  field: 'first' | 'last',
  max: number = limits.maxPageSize,
): number {
  if (!Number.isInteger(value) || value < 0) {
    throw badInput(`"${field}" must be a whole number from 0 to ${max}.`, field);
  }
  if (value > max) {
    throw badInput(
      `"${field}" is ${value}, above the page limit of ${max}: ask for ${max} or fewer and page with the cursors.`,
      field,
    );
  }
  return value;
}

/**
 * Without `first` or `last`: forward when only `after` is given, else backward (the newest page),
 * both with the default size.
 */
export function parseConnectionArgs<C>(
  args: ConnectionArgs,
  decodeCursor: (cursor: string, field: 'after' | 'before') => C,
): PageWindow<C> {
  const hasFirst = args.first !== null && args.first !== undefined;
  const hasLast = args.last !== null && args.last !== undefined;
  if (hasFirst && hasLast) {
    throw badInput('Give "first" (with "after") or "last" (with "before"), not both.', 'first');
  }
  const after = args.after != null ? decodeCursor(args.after, 'after') : null;
  const before = args.before != null ? decodeCursor(args.before, 'before') : null;
  if (hasFirst)
    return { direction: 'forward', size: checkPageSize(args.first!, 'first'), after, before };
  if (hasLast)
    return { direction: 'backward', size: checkPageSize(args.last!, 'last'), after, before };
  const direction = after !== null && before === null ? 'forward' : 'backward';
  return { direction, size: limits.defaultPageSize, after, before };
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

export function toConnection<T>(
  nodes: readonly T[],
  cursorOf: (node: T) => string,
  hasPreviousPage: boolean,
  hasNextPage: boolean,
): Connection<T> {
  const edges = nodes.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: {
      hasPreviousPage,
      hasNextPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
