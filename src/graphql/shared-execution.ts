// Fan-out: when an event reaches many subscribers that asked the same thing (same document,
// same variables, same event), execute the selection once and hand every one of them the same
// result, instead of resolving senders, statuses and the rest once per subscriber.
//
// Only message payloads are shared. What a message resolves to does not depend on who asks:
// every subscriber that gets it is a member of its conversation (checked per event before it
// gets here), `status` is the sender's view, the sender's presence is visible to all members,
// and attachment URLs are signed without the viewer (see domain/attachment-urls.ts). The
// exceptions (VIEWER_FIELDS) make the viewer part of the key.
import {
  createSourceEventStream,
  execute,
  print,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import { Channel } from '../realtime/channel.js';
import { DirectDelivery, type FrameSink } from './direct-delivery.js';

type Result = ExecutionResult | Promise<ExecutionResult>;

/**
 * Fields whose value depends on who asks, anywhere in a message's selection (its sender, the
 * message it replies to, the users it mentions): `senderBlocked`, a reaction's `reactedByMe`,
 * and a user's `email` and `totalUnreadCount`, shown to that user only. A document that selects
 * one is shared per viewer; a field of that kind added to the schema belongs here.
 */
const VIEWER_FIELDS = /\b(?:senderBlocked|reactedByMe|email|totalUnreadCount)\b/;

/** A message row handed on by a message stream (shared by all local subscribers of an event). */
function isMessage(payload: unknown): payload is object {
  const m = payload as Record<string, unknown> | null;
  return (
    !!m &&
    typeof m === 'object' &&
    typeof m['conversationId'] === 'string' &&
    typeof m['seq'] === 'number' &&
    typeof m['senderId'] === 'string'
  );
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * `framesOf`: where a subscription's results are written directly (direct-delivery.ts), by its
 * context; none (or a stream that is not a channel): through graphql-ws, event by event.
 */
export function createSharedSubscribe(framesOf: (contextValue: unknown) => FrameSink | undefined) {
  // Keyed by the event's own object (domain/events.ts fromWire gives every subscriber the same
  // one), then by operation: results live exactly as long as the event is still being handed on.
  const results = new WeakMap<object, Map<string, Result>>();

  const executeShared = (args: ExecutionArgs, operationKey: string, payload: unknown): Result => {
    if (!isMessage(payload)) return execute({ ...args, rootValue: payload });
    let byOperation = results.get(payload);
    if (!byOperation) results.set(payload, (byOperation = new Map()));
    let result = byOperation.get(operationKey);
    if (!result) {
      result = execute({ ...args, rootValue: payload });
      byOperation.set(operationKey, result);
    }
    return result;
  };

  // Subscriptions asking the same thing share one key string (memory per subscription).
  const printedDocuments = new WeakMap<DocumentNode, string>();
  const printed = (document: DocumentNode) => {
    let text = printedDocuments.get(document);
    if (text === undefined) printedDocuments.set(document, (text = print(document)));
    return text;
  };
  const keys = new Map<string, string>();
  const intern = (key: string) => {
    const known = keys.get(key);
    if (known !== undefined) return known;
    keys.set(key, key);
    if (keys.size > 1_000) keys.delete(keys.keys().next().value!);
    return key;
  };

  return async function subscribe(
    args: ExecutionArgs,
  ): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    const text = printed(args.document);
    const viewer = VIEWER_FIELDS.test(text)
      ? `\u0000${(args.contextValue as { userId?: string | null }).userId ?? ''}`
      : '';
    const operationKey = intern(
      `${text}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}${viewer}`,
    );
    const frames = framesOf(args.contextValue);
    if (frames && source instanceof Channel) {
      return new DirectDelivery(
        source as Channel<unknown>,
        frames,
        executeShared,
        args,
        operationKey,
      );
    }
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
