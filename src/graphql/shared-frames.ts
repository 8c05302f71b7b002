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

/** The payload graphql-ws's onNext hook makes of a result (its checks run first). */
export type NextPayload<Extra> = (extra: Extra, result: ExecutionResult) => object;

/** The `next` frames of one subscription, written to its socket. */
export class NextFrames<Extra = unknown> {
  private readonly prefix: string;

  constructor(
    private readonly socket: WebSocket,
    /** The connection under `socket` (the upgraded request's). */
    private readonly connection: Duplex,
    private readonly extra: Extra,
    private readonly payloadOf: NextPayload<Extra>,
    id: string,
    legacy: boolean,
  ) {
    const quoted = JSON.stringify(id);
    this.prefix = legacy
      ? `{"type":"data","id":${quoted},"payload":`
      : `{"id":${quoted},"type":"next","payload":`;
  }

  /**
   * Writes the result's frame. False when the socket is backed up: `waiting.caughtUp()` is
   * called once it has written this frame out (until then, send nothing more).
   */
  send(result: ExecutionResult, waiting: { caughtUp(): void }): boolean {
    const payload = this.payloadOf(this.extra, result);
    // Like graphql-ws's own send: a socket that is closing takes nothing more.
    if (this.socket.readyState !== this.socket.OPEN) return true;
    const frame = this.frameOf(payload);
    corkForThisTick(this.connection);
    if (this.socket.bufferedAmount < BACKED_UP_BYTES) {
      this.socket.send(frame, TEXT);
      return true;
    }
    this.socket.send(frame, TEXT, () => waiting.caughtUp());
    return false;
  }

  private frameOf(payload: object): Buffer | string {
    let known = serialized.get(payload);
    if (!known) {
      known = { json: JSON.stringify(payload), prefix: this.prefix, frame: undefined };
      serialized.set(payload, known);
    }
    if (known.prefix !== this.prefix) return `${this.prefix}${known.json}}`;
    return (known.frame ??= Buffer.from(`${this.prefix}${known.json}}`));
  }
}
