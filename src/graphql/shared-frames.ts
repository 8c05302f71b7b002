// One frame for many sockets. A subscription's results are written straight to its socket
// (direct-delivery.ts), as the very text graphql-ws would send: {"id":…,"type":"next",
// "payload":…} (or the legacy protocol's {"type":"data","id":…,"payload":…}). The payload's JSON
// is made once per result object, and subscribers that share the result (shared-execution.ts)
// and the subscription id (clients that number their operations, like the bench's and
// subscriptions-transport-ws's, all say "1") share one encoded frame too: each socket writes the
// same bytes, with no JSON.stringify, string building or UTF-8 encoding of its own.
import type { Duplex } from 'node:stream';
import type { ExecutionResult } from 'graphql';
import type { WebSocket } from 'ws';

/** A socket whose unsent bytes pass this is backed up: results wait in the subscription's
 * channel (bounded, with its own overflow policy) until it has written them. */
const BACKED_UP_BYTES = 64 * 1024;

const TEXT = { binary: false } as const;

interface Serialized {
  readonly json: string;
  /** The frame of the first subscription that sent this payload, and that subscription's
   * frame prefix (any other with the same prefix sends the same bytes). */
  readonly prefix: string;
  frame: Buffer | undefined;
}

const serialized = new WeakMap<object, Serialized>();

// Events that reach this instance together (one read from Redis often carries several when it
// is busy) go out to each socket in one write: the first frame of a tick corks the connection's
// TCP socket, and the writes are flushed together once the tick's synchronous work is done.
// Without it every frame is a syscall of its own (ws corks only around one frame's header and
// payload), and writev was a third of an instance's CPU in fan-out profiles.
const corked: Duplex[] = [];
const uncorkAll = () => {
  for (const socket of corked) socket.uncork();
  corked.length = 0;
};
const corkForThisTick = (socket: Duplex) => {
  if (socket.writableCorked > 0) return;
  socket.cork();
  if (corked.push(socket) === 1) process.nextTick(uncorkAll);
};

/** What a connection's hooks see of it (graphql-ws's Extra): the socket, the upgrade request. */
export interface SocketExtra {
  readonly socket: WebSocket;
  /** Its `socket` is the TCP connection under the WebSocket. */
  readonly request: { readonly socket: Duplex };
}

/** The payload graphql-ws's onNext hook makes of a result (its checks run first). */
export type NextPayload<Extra> = (extra: Extra, result: ExecutionResult) => object;

// Subscriptions with the same short id (clients that number their operations: "1", "2", …)
// share one prefix string, so comparing two is comparing pointers. Long ids (graphql-ws's
// client makes UUIDs) are each their own.
const prefixes = new Map<string, string>();
const MAX_PREFIXES = 1_000;
const SHARED_ID_LENGTH = 8;
function prefixOf(id: string, legacy: boolean): string {
  const quoted = JSON.stringify(id);
  const prefix = legacy
    ? `{"type":"data","id":${quoted},"payload":`
    : `{"id":${quoted},"type":"next","payload":`;
  if (id.length > SHARED_ID_LENGTH) return prefix;
  const known = prefixes.get(prefix);
  if (known !== undefined) return known;
  if (prefixes.size >= MAX_PREFIXES) prefixes.delete(prefixes.keys().next().value!);
  prefixes.set(prefix, prefix);
  return prefix;
}

/** The `next` frames of one subscription, written to its socket. */
export class NextFrames<Extra extends SocketExtra> {
  /** Made with the first frame: most subscriptions are idle most of their life. */
  private prefix: string | undefined;

  constructor(
    private readonly extra: Extra,
    private readonly payloadOf: NextPayload<Extra>,
    private readonly id: string,
    private readonly legacy: boolean,
  ) {}

  /**
   * Writes the result's frame. False when the socket is backed up: `waiting.caughtUp()` is
   * called once it has written this frame out (until then, send nothing more).
   */
  send(result: ExecutionResult, waiting: { caughtUp(): void }): boolean {
    const { extra } = this;
    const payload = this.payloadOf(extra, result);
    const { socket } = extra;
    // Like graphql-ws's own send: a socket that is closing takes nothing more.
    if (socket.readyState !== socket.OPEN) return true;
    const frame = this.frameOf(payload);
    corkForThisTick(extra.request.socket);
    if (socket.bufferedAmount < BACKED_UP_BYTES) {
      socket.send(frame, TEXT);
      return true;
    }
    socket.send(frame, TEXT, () => waiting.caughtUp());
    return false;
  }

  private frameOf(payload: object): Buffer | string {
    const prefix = (this.prefix ??= prefixOf(this.id, this.legacy));
    let known = serialized.get(payload);
    if (!known) {
      known = { json: JSON.stringify(payload), prefix, frame: undefined };
      serialized.set(payload, known);
    }
    if (known.prefix !== prefix) return `${prefix}${known.json}}`;
    return (known.frame ??= Buffer.from(`${prefix}${known.json}}`));
  }
}
