// messageAdded subscriptions that survive a reconnect: every message once, none missed.
//
// graphql-ws (with retries on) reconnects after a dropped socket and sends each active
// subscription's payload again. For messageAdded that alone would lose what was sent meanwhile
// (or, with the original `after`, replay it twice), so each subscription remembers the newest
// message it delivered per conversation and:
// - one conversation with an `after` variable: the payload's `after` follows the newest cursor,
//   so the re-sent subscription replays exactly what was missed (the server joins replay and live
//   without gap or duplicate);
// - otherwise (every conversation, or no `after` variable): after the reconnect it pages each
//   conversation it has delivered from with `messages(after:)`, holding back live events until
//   the catch-up is done. Subscribed to every conversation, it also lists the conversations: one
//   with nothing delivered yet is caught up from where it stood when the subscription started
//   (a snapshot taken then), and one that is new since (a chat opened or a group joined while the
//   client was away) from its unread messages.
// Either way a message at or below the newest seq delivered for its conversation is dropped.
import {
  Kind,
  parse,
  print,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from 'graphql';
import type {
  Client as WsClient,
  FormattedExecutionResult,
  Sink,
  SubscribePayload,
} from 'graphql-ws';

type Result = FormattedExecutionResult<Record<string, unknown>, unknown>;

interface DeliveredMessage {
  conversationId: string;
  seq: number;
  cursor: string;
}

/** What a subscription document allows: null when it is not a resumable messageAdded. */
interface Plan {
  /** The response key of the messageAdded field (its alias, if any). */
  key: string;
  /** Catch-up query selecting what the subscription selects: a page of $conversationId. */
  catchUpQuery: string;
  /** `conversationId` argument: a variable name, a literal id, or absent (every conversation). */
  conversation: { variable: string } | { literal: string } | null;
  /** The variable the `after` argument takes, if it takes one. */
  afterVariable: string | null;
}

const REQUIRED_FIELDS = ['conversationId', 'seq', 'cursor'];

function planFor(query: string): Plan | null {
  let document;
  try {
    document = parse(query);
  } catch {
    return null; // the server answers the parse error
  }
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  if (operation?.operation !== 'subscription') return null;
  const field = operation.selectionSet.selections.find(
    (s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === 'messageAdded',
  );
  if (!field?.selectionSet) return null;
  const fragments = document.definitions.filter(
    (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION,
  );
  if (!REQUIRED_FIELDS.every((name) => selects(field.selectionSet!, name, fragments))) return null;

  const argument = (name: string) => field.arguments?.find((a) => a.name.value === name)?.value;
  const conversationArg = argument('conversationId');
  const afterArg = argument('after');
  const catchUpQuery = [
    `query ParleyCatchUp($conversationId: ID!, $after: String, $first: Int, $before: String, $last: Int) {
      messages(conversationId: $conversationId, after: $after, first: $first, before: $before, last: $last) {
        edges { node ${print(field.selectionSet)} }
        pageInfo { hasNextPage endCursor hasPreviousPage startCursor }
      }
    }`,
    ...fragments.map((f) => print(f)),
  ].join('\n');
  return {
    key: field.alias?.value ?? field.name.value,
    catchUpQuery,
    conversation:
      conversationArg?.kind === Kind.VARIABLE
        ? { variable: conversationArg.name.value }
        : conversationArg?.kind === Kind.STRING
          ? { literal: conversationArg.value }
          : null,
    afterVariable: afterArg?.kind === Kind.VARIABLE ? afterArg.name.value : null,
  };
}

/** Whether a selection set (following fragments) selects a field by that name, unaliased. */
function selects(
  set: NonNullable<FieldNode['selectionSet']>,
  name: string,
  fragments: readonly FragmentDefinitionNode[],
): boolean {
  return set.selections.some((s) => {
    if (s.kind === Kind.FIELD) return s.name.value === name && !s.alias;
    if (s.kind === Kind.INLINE_FRAGMENT) return selects(s.selectionSet, name, fragments);
    const fragment = fragments.find((f) => f.name.value === s.name.value);
    return fragment ? selects(fragment.selectionSet, name, fragments) : false;
  });
}

type CatchUpPage = {
  messages: {
    edges: { node: Record<string, unknown> }[];
    pageInfo: {
      hasNextPage: boolean;
      endCursor: string | null;
      hasPreviousPage: boolean;
      startCursor: string | null;
    };
  };
};

const PAGE = 100;

const CONVERSATIONS_QUERY = `query ParleyConversations($after: String) {
  conversations(first: ${PAGE}, after: $after) {
    edges { node { id unreadCount lastMessage { seq cursor } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface ConversationState {
  id: string;
  unreadCount: number;
  lastMessage: { seq: number; cursor: string } | null;
}
type ConversationsPage = {
  conversations: {
    edges: { node: ConversationState }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
};

/** Every conversation of the viewer, with its newest message and unread count. */
async function listConversations(runQuery: QueryRunner): Promise<ConversationState[]> {
  const all: ConversationState[] = [];
  let after: string | null = null;
  do {
    const result = await runQuery(CONVERSATIONS_QUERY, { after });
    const page = (result.data as ConversationsPage | null | undefined)?.conversations;
    if (!page) throw result.errors ?? new Error('listing conversations failed');
    all.push(...page.edges.map((e) => e.node));
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after !== null);
  return all;
}

/** Runs a query over HTTP; resolves with its result (errors included). */
export type QueryRunner = (query: string, variables: Record<string, unknown>) => Promise<Result>;

export interface Resumer {
  /**
   * Wraps a subscription's sink. `payload` is the object handed to graphql-ws, which sends it
   * again on every reconnect: its `variables` (owned by the caller, not shared) may be updated.
   */
  track(
    payload: SubscribePayload & { variables: Record<string, unknown> },
    sink: Sink<Result>,
  ): { sink: Sink<Result>; stop(): void };
}

export function createResumer(ws: WsClient, runQuery: QueryRunner): Resumer {
  const onReconnect = new Set<() => void>();
  ws.on('connected', (_socket, _payload, wasRetry) => {
    if (wasRetry) for (const listener of [...onReconnect]) listener();
  });

  return {
    track(payload, sink) {
      const plan = planFor(payload.query);
      if (!plan) return { sink, stop: () => undefined };
      const { variables } = payload;
      const scopedTo =
        plan.conversation === null
          ? null
          : 'literal' in plan.conversation
            ? plan.conversation.literal
            : ((variables[plan.conversation.variable] as string | null | undefined) ?? null);
      const serverReplays = scopedTo !== null && plan.afterVariable !== null;

      const newest = new Map<string, DeliveredMessage>();
      let stopped = false;
      /** Live results held back while a catch-up runs. */
      let held: Result[] | null = null;
      let catchUps = Promise.resolve();

      const deliver = (result: Result) => {
        const message = result.data?.[plan.key] as DeliveredMessage | undefined;
        if (!message) return sink.next(result);
        const seen = newest.get(message.conversationId);
        if (seen && message.seq <= seen.seq) return;
        newest.set(message.conversationId, message);
        if (serverReplays) variables[plan.afterVariable!] = message.cursor;
        sink.next(result);
      };

      /** A page of one conversation; null when the viewer is no longer a member. */
      const pageOf = async (args: Record<string, unknown>) => {
        const result = await runQuery(plan.catchUpQuery, args);
        const page = (result.data as CatchUpPage | null | undefined)?.messages;
        if (page) return page;
        // Left (or removed from) that conversation meanwhile: nothing more to deliver.
        if (result.errors?.[0]?.extensions?.['code'] === 'NOT_FOUND') return null;
        throw result.errors ?? new Error('catch-up query failed');
      };
      const deliverNodes = (nodes: Record<string, unknown>[]) => {
        for (const node of nodes) deliver({ data: { [plan.key]: node } });
      };
      /** Everything after `after` (from the first message when null). */
      const catchUpFrom = async (conversationId: string, after: string | null) => {
        for (let more = true; more && !stopped;) {
          const page = await pageOf({ conversationId, after, first: PAGE });
          if (!page) return;
          deliverNodes(page.edges.map((e) => e.node));
          more = page.pageInfo.hasNextPage;
          after = page.pageInfo.endCursor;
        }
      };
      /** The newest `count` messages, oldest first. */
      const catchUpLast = async (conversationId: string, count: number) => {
        const pages: Record<string, unknown>[][] = [];
        let before: string | null = null;
        while (count > 0 && !stopped) {
          const page = await pageOf({ conversationId, before, last: Math.min(count, PAGE) });
          if (!page) return;
          pages.unshift(page.edges.map((e) => e.node));
          count -= page.edges.length;
          if (!page.pageInfo.hasPreviousPage) break;
          before = page.pageInfo.startCursor;
        }
        deliverNodes(pages.flat());
      };

      // Subscribed to every conversation: where each stood when the subscription started, for
      // those it has delivered nothing from by the time it reconnects.
      const baseline =
        scopedTo === null
          ? listConversations(runQuery).then(
              (list) => new Map(list.map((c) => [c.id, c.lastMessage])),
              () => null, // without it, only conversations delivered from are caught up
            )
          : Promise.resolve(null);

      const catchUp = async () => {
        const atStart = await baseline;
        const listed = atStart ? await listConversations(runQuery) : [];
        // Each listed conversation with messages past what the client knows of it: what it
        // delivered, else where it stood at the start; one new since, from its unread messages.
        const atStartOf = (id: string) =>
          atStart?.has(id) ? (atStart.get(id) ?? { seq: 0, cursor: null }) : undefined;
        for (const c of listed) {
          if (stopped) return;
          if (!c.lastMessage) continue;
          const known = newest.get(c.id) ?? atStartOf(c.id);
          if (!known) {
            if (c.unreadCount > 0) await catchUpLast(c.id, c.unreadCount);
          } else if (c.lastMessage.seq > known.seq) {
            await catchUpFrom(c.id, known.cursor);
          }
        }
        // Without a listing (one conversation, or it failed), and for any conversation the
        // listing missed (it moved between pages), from the newest message delivered.
        const seen = new Set(listed.map((c) => c.id));
        for (const [conversationId, from] of [...newest]) {
          if (!seen.has(conversationId)) await catchUpFrom(conversationId, from.cursor);
        }
      };

      let pendingCatchUps = 0;
      const reconnected = () => {
        if (serverReplays || stopped) return;
        // Live events wait from now until every catch-up asked for so far has run.
        pendingCatchUps += 1;
        held ??= [];
        catchUps = catchUps
          .then(catchUp)
          .catch((err: unknown) => {
            if (!stopped) sink.error(err);
          })
          .finally(() => {
            pendingCatchUps -= 1;
            if (pendingCatchUps > 0) return;
            const release = held ?? [];
            held = null;
            if (!stopped) release.forEach(deliver);
          });
      };
      onReconnect.add(reconnected);
      const stop = () => {
        stopped = true;
        onReconnect.delete(reconnected);
      };

      return {
        sink: {
          next: (result) => (held ? held.push(result) : deliver(result)),
          error: (err) => {
            stop();
            sink.error(err);
          },
          complete: () => {
            stop();
            sink.complete();
          },
        },
        stop,
      };
    },
  };
}
