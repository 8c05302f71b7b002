// A subscription's events written straight to its socket. graphql-ws hands each event on
// through a chain of promises (the stream's iterator, subscribe's mapped iterator, its own
// for-await, onNext, a send that waits for the write): a handful of promises, closures and
// microtask hops per event and subscriber, which with a thousand subscribers of one room is most
// of what an event costs. Here the stream's channel offers each event synchronously, the result
// (executed once for all, shared-execution.ts) is written at once (shared-frames.ts), and the
// only promise is the one graphql-ws waits on for the whole subscription: it settles when the
// stream ends (graphql-ws then sends `complete`) or fails (`error`), after every event of it.
//
// Flow control is the channel's: while the socket is backed up, or a result is still being
// executed, events wait in the channel under its bound and overflow policy (a slow reader of
// messages is disconnected with 1013 and resumes; typing is shed), as they did while graphql-ws
// waited for each write.
import type { ExecutionResult } from 'graphql';
import { NOTHING, type Channel, type ChannelConsumer } from '../realtime/channel.js';
/** Where results go: a socket's frames (shared-frames.ts NextFrames). */
export interface FrameSink {
  /** Sends a result; false when backed up: `waiting.caughtUp()` once the socket caught up. */
  send(result: ExecutionResult, waiting: { caughtUp(): void }): boolean;
}

type Result = ExecutionResult | Promise<ExecutionResult>;

/** Executes a subscription's event (shared-execution.ts: once for all who asked the same). */
export type ExecuteEvent<Args> = (args: Args, operationKey: string, event: unknown) => Result;

const isPromise = (value: Result): value is Promise<ExecutionResult> =>
  typeof (value as Promise<ExecutionResult>).then === 'function';

export class DirectDelivery<T, Args>
  implements ChannelConsumer<T>, AsyncIterableIterator<ExecutionResult>
{
  private started = false;
  /** A result is being executed: later events wait in the channel. */
  private executing = false;
  /** The socket is backed up: later events wait in the channel. */
  private backedUp = false;
  /** Inside drain(): events offered meanwhile wait in the channel, for drain to take. */
  private draining = false;
  /** return() was called (client completed, socket closed): nothing more is sent. */
  private stopped = false;
  /** The stream ended while its last result was being executed: settle after sending it. */
  private endedWith: { failure: unknown } | null = null;
  private settled: { failure: unknown } | null = null;
  /** graphql-ws's one pending next(), while the subscription runs. */
  private resolveNext: ((r: IteratorResult<ExecutionResult>) => void) | null = null;
  private rejectNext: ((e: unknown) => void) | null = null;

  // Kept by every subscription for as long as it runs: fields, no closures.
  constructor(
    private readonly channel: Channel<T>,
    private readonly frames: FrameSink,
    private readonly execute: ExecuteEvent<Args>,
    private readonly args: Args,
    private readonly operationKey: string,
  ) {}

  // The consumer side: what the channel calls.

  offer(value: T): boolean {
    if (this.executing || this.backedUp || this.draining || this.stopped) return false;
    this.deliver(value);
    return true;
  }

  ended(failure: unknown): void {
    if (this.executing) this.endedWith = { failure };
    else this.settle(failure);
  }

  private deliver(value: T): void {
    let result: Result;
    try {
      result = this.execute(this.args, this.operationKey, value);
    } catch (err) {
      return this.fail(err);
    }
    if (!isPromise(result)) return this.send(result);
    this.executing = true;
    result.then(
      (r) => {
        this.executing = false;
        if (this.stopped) return;
        this.send(r);
        const ended = this.endedWith;
        if (ended) this.settle(ended.failure);
        else this.drain();
      },
      (err: unknown) => {
        this.executing = false;
        this.fail(err);
      },
    );
  }

  private send(result: ExecutionResult): void {
    if (!this.frames.send(result, this)) this.backedUp = true;
  }

  /** The socket wrote what it held: take what waited meanwhile. */
  caughtUp(): void {
    this.backedUp = false;
    this.drain();
  }

  /** Takes the events that waited in the channel, while the socket and execution keep up. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (!this.executing && !this.backedUp && !this.stopped) {
        const value = this.channel.poll();
        if (value === NOTHING) break;
        this.deliver(value);
      }
    } finally {
      this.draining = false;
    }
  }

  private fail(err: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    // The failure reaches graphql-ws, which sends `error`; the stream ends (its cleanup runs).
    this.settle(err ?? new Error('Subscription failed'));
    void this.channel.return();
  }

  /** Settles the subscription's one promise: done, or the failure. */
  private settle(failure: unknown): void {
    if (this.settled) return;
    this.settled = { failure };
    const resolve = this.resolveNext;
    const reject = this.rejectNext;
    this.resolveNext = this.rejectNext = null;
    if (failure) reject?.(failure);
    else resolve?.({ value: undefined, done: true });
  }

  // The iterator side: what graphql-ws calls. Its for-await asks once, and gets an answer when
  // the subscription is over; every event went to the socket meanwhile.

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.settled) {
      const { failure } = this.settled;
      this.settled = { failure: null };
      return failure ? Promise.reject(failure) : Promise.resolve({ value: undefined, done: true });
    }
    const answer = new Promise<IteratorResult<ExecutionResult>>((resolve, reject) => {
      this.resolveNext = resolve;
      this.rejectNext = reject;
    });
    // Started once graphql-ws has registered the subscription (its first next), so a client
    // that completed it before then gets nothing.
    if (!this.started) {
      this.started = true;
      this.channel.attach(this);
      this.drain();
    }
    return answer;
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.stopped = true;
    this.settle(null);
    void this.channel.return();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.stopped = true;
    this.settle(null);
    void this.channel.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
