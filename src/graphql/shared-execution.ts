// Fan-out: when an event reaches many subscribers that asked the same thing (same document,
// same variables, same event), execute the selection once and hand every one of them the same
// result, instead of resolving senders, statuses and the rest once per subscriber.
//
// Only message payloads are shared. What a message resolves to does not depend on who asks:
// every subscriber that gets it is a member of its conversation (checked per event before it
// gets here), `status` is the sender's view, the sender's presence is visible to all members,
// and attachment URLs are signed without the viewer (see domain/attachment-urls.ts).
import {
  createSourceEventStream,
  execute,
  print,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';

export interface SharedExecutionOptions {
  /** How long a result is reused for other subscribers of the same event. */
  ttlMs: number;
  /** Results kept at most (oldest dropped first). */
  maxEntries: number;
}

type Result = ExecutionResult | Promise<ExecutionResult>;

/** A key for payloads whose execution can be shared, else null. */
function eventKey(payload: unknown): string | null {
  const m = payload as Record<string, unknown> | null;
  if (!m || typeof m !== 'object' || typeof m['conversationId'] !== 'string') return null;
  if (typeof m['seq'] !== 'number' || typeof m['senderId'] !== 'string') return null;
  const time = (v: unknown) => (v instanceof Date ? v.getTime() : String(v));
  return `m:${m['conversationId']}:${m['seq']}:${time(m['editedAt'])}:${time(m['deletedAt'])}`;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

export function createSharedSubscribe(opts: SharedExecutionOptions) {
  const results = new Map<string, { at: number; result: Result }>();

  const executeShared = (args: ExecutionArgs, operationKey: string, payload: unknown): Result => {
    const key = eventKey(payload);
    if (key === null) return execute({ ...args, rootValue: payload });
    const fullKey = `${operationKey}\u0000${key}`;
    const now = Date.now();
    const hit = results.get(fullKey);
    if (hit && now - hit.at < opts.ttlMs) return hit.result;
    const result = execute({ ...args, rootValue: payload });
    results.set(fullKey, { at: now, result });
    if (results.size > opts.maxEntries) results.delete(results.keys().next().value!);
    return result;
  };

  return async function subscribe(
    args: ExecutionArgs,
  ): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    const operationKey = `${print(args.document)}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
    const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    const mapped: AsyncIterableIterator<ExecutionResult> = {
      async next() {
        const step = await iterator.next();
        if (step.done) return { value: undefined, done: true };
        return { value: await executeShared(args, operationKey, step.value), done: false };
      },
      async return() {
        await iterator.return?.();
        return { value: undefined, done: true };
      },
      async throw(error: unknown) {
        if (iterator.throw) await iterator.throw(error);
        throw error;
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    return mapped;
  };
}
