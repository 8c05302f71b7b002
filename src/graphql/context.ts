import DataLoader from 'dataloader';
import { createLoaders, type Loaders } from '../db/loaders.js';
import type { PresencePayload } from '../realtime/events.js';
import type { Deps, Session } from '../domain/context.js';
import { authenticate } from '../domain/auth.js';
import { unauthenticated, type DomainError } from '../domain/errors.js';

export interface GraphQLContext {
  readonly deps: Deps;
  readonly loaders: Loaders;
  /** Presence of users, batched per request (visibility is checked by the resolver). */
  readonly presence: DataLoader<string, PresencePayload>;
  readonly requestId: string;
  /** The client's address, for per-IP limits. */
  readonly clientIp: string;
  /** Subscriptions only: disconnects a client that stopped reading (see Session). */
  readonly closeSlowConsumer?: () => void;
  /** Subscriptions only: asks the client to reconnect later (see Session). */
  readonly closeToRetry?: (reason: string) => void;
  /** The signed-in user, or null (with the reason in authError when a token was sent). */
  readonly userId: string | null;
  readonly authError: DomainError | null;
}

/** The caller as a domain session; UNAUTHENTICATED when not signed in. */
export function requireSession(ctx: GraphQLContext): Session {
  if (!ctx.userId) throw ctx.authError ?? unauthenticated();
  return {
    deps: ctx.deps,
    userId: ctx.userId,
    loaders: ctx.loaders,
    ...(ctx.closeSlowConsumer ? { closeSlowConsumer: ctx.closeSlowConsumer } : {}),
    ...(ctx.closeToRetry ? { closeToRetry: ctx.closeToRetry } : {}),
  };
}

/** Builds the context of one request from its Authorization header. */
export async function createContext(
  deps: Deps,
  authorization: string | undefined,
  requestId: string,
  clientIp: string,
): Promise<GraphQLContext> {
  // No header: anonymous (register and login need none); a bad one is kept to be reported.
  const auth = authorization ? await authenticate(deps, authorization) : null;
  const userId = auth && 'userId' in auth ? auth.userId : null;
  const authError = auth && 'error' in auth ? auth.error : null;
  let presence: DataLoader<string, PresencePayload> | undefined;
  return {
    deps,
    loaders: createLoaders(deps.db, userId),
    get presence() {
      return (presence ??= presenceLoader(deps, true));
    },
    requestId,
    clientIp,
    userId,
    authError,
  };
}

/** The context of one subscription: no caching, since every event must see current data. */
export function createSubscriptionContext(
  deps: Deps,
  userId: string,
  requestId: string,
  clientIp: string,
  closeSlowConsumer: () => void,
  closeToRetry: (reason: string) => void,
): GraphQLContext {
  let presence: DataLoader<string, PresencePayload> | undefined;
  return {
    deps,
    loaders: createLoaders(deps.db, userId, false),
    get presence() {
      return (presence ??= presenceLoader(deps, false));
    },
    requestId,
    clientIp,
    userId,
    authError: null,
    closeSlowConsumer,
    closeToRetry,
  };
}

function presenceLoader(deps: Deps, cache: boolean): DataLoader<string, PresencePayload> {
  return new DataLoader(
    async (ids) => {
      const status = await deps.presence.statusOf(ids);
      return ids.map((id) => status.get(id)!);
    },
    { cache },
  );
}
