// The async iterator a subscription hands to graphql-ws: producers push, the socket pulls.
// return() (client unsubscribed, socket closed) runs the cleanup at once, even while nothing is
// pending, which an async generator parked on an await could not do.
//
// A consumer that can take values synchronously (graphql/direct-delivery.ts writes them to the
// socket) attaches instead of pulling with next(): a value pushed while nothing is buffered is
// offered to it at once, with no promise, and only what it cannot take now is buffered, under
// the same bound and overflow policy, until it pulls it with poll().

export interface ChannelOptions<T = unknown> {
  /** Undelivered items kept for a client that reads slower than events come. */
  maxBuffer: number;
  /**
   * What a full buffer does: 'drop-oldest' sheds (for ephemeral events), 'fail' ends the
   * subscription, a function is called first (to close the socket so the client resumes).
   */
  overflow: 'drop-oldest' | 'fail' | (() => void);
  /**
   * Called with each value as it leaves the channel for the socket (taken by the consumer or a
   * pending next()), never for one buffered and then dropped: what reached the client's socket.
   */
  onTaken?: (value: T) => void;
}

export class SlowConsumerError extends Error {
  override name = 'SlowConsumerError';
  constructor() {
    super('The client reads slower than events arrive; reconnect and resume from the last cursor.');
  }
}

/** A synchronous consumer of a channel (see attach). */
export interface ChannelConsumer<T> {
  /** Takes a value now; false: not now (the channel keeps it, to be taken with poll()). */
  offer(value: T): boolean;
  /** The channel ended: called once, after every value was taken (or dropped by return()). */
  ended(failure: unknown): void;
}

/** What poll() answers when nothing is buffered. */
export const NOTHING: unique symbol = Symbol('nothing buffered');

export class Channel<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private consumer: ChannelConsumer<T> | null = null;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null =
    null;
  private finished = false;
  private failure: unknown = null;
  private cleanedUp = false;

  private readonly maxBuffer: number;
  private readonly overflow: ChannelOptions['overflow'];
  private readonly onTaken: ((value: T) => void) | undefined;

  constructor(
    private readonly cleanup: () => void,
    opts: Partial<ChannelOptions<T>> = {},
  ) {
    this.maxBuffer = opts.maxBuffer ?? 10_000;
    this.overflow = opts.overflow ?? 'fail';
    this.onTaken = opts.onTaken;
  }

  get closed(): boolean {
    return this.finished;
  }

  /** Queues a value; false when the channel is closed. */
  push(value: T): boolean {
    if (this.finished) return false;
    if (this.consumer && this.buffer.length === 0 && this.consumer.offer(value)) {
      this.onTaken?.(value);
      return true;
    }
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = null;
      this.onTaken?.(value);
      resolve({ value, done: false });
      return true;
    }
    if (this.buffer.length >= this.maxBuffer) {
      if (this.overflow === 'drop-oldest') {
        this.buffer.shift();
      } else {
        if (typeof this.overflow === 'function') this.overflow();
        this.fail(new SlowConsumerError());
        return false;
      }
    }
    this.buffer.push(value);
    return true;
  }

  /** Ends the stream with an error, after what is already queued. */
  fail(error: unknown): void {
    if (this.finished) return;
    this.failure = error;
    this.finish();
  }

  /** Ends the stream normally, after what is already queued. */
  end(): void {
    this.finish();
  }

  private finish(): void {
    this.finished = true;
    this.runCleanup();
    if (this.buffer.length === 0) this.notifyEnded();
    if (this.waiter && this.buffer.length === 0) {
      const { resolve, reject } = this.waiter;
      this.waiter = null;
      if (this.failure) reject(this.failure);
      else resolve({ value: undefined, done: true });
    }
  }

  private notifyEnded(): void {
    const consumer = this.consumer;
    if (!consumer) return;
    this.consumer = null;
    const failure = this.failure;
    this.failure = null;
    consumer.ended(failure);
  }

  /**
   * Hands every value to `consumer` from now on instead of next(): what is already buffered
   * waits for poll(). One consumer per channel, in place of next().
   */
  attach(consumer: ChannelConsumer<T>): void {
    this.consumer = consumer;
    if (this.finished && this.buffer.length === 0) this.notifyEnded();
  }

  /**
   * The oldest buffered value, or NOTHING: the consumer pulls until then. An ended channel tells
   * its consumer (ended) when it finds nothing more.
   */
  poll(): T | typeof NOTHING {
    if (this.buffer.length > 0) return this.taken(this.buffer.shift()!);
    if (this.finished) this.notifyEnded();
    return NOTHING;
  }

  private taken(value: T): T {
    this.onTaken?.(value);
    return value;
  }

  private runCleanup(): void {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    this.cleanup();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0)
      return Promise.resolve({ value: this.taken(this.buffer.shift()!), done: false });
    if (this.finished) {
      if (this.failure) {
        const failure = this.failure;
        this.failure = null;
        return Promise.reject(failure);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.buffer.length = 0;
    this.failure = null;
    this.finish();
    this.notifyEnded();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.buffer.length = 0;
    this.finish();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Runs handlers one after another, in arrival order. A task that finds the queue idle runs at
 * once, and only one that returns a promise holds the queue until it settles: an event handled
 * synchronously (the common case for a live message) costs no promise and no microtask hop, which
 * matters when one event is handed to a thousand local subscribers.
 */
export class SerialQueue {
  /** The last task still running or waiting; null when the queue is idle. */
  private tail: Promise<void> | null = null;
  constructor(private readonly onError: (err: unknown) => void) {}

  run(task: () => void | Promise<void>): void {
    this.runWith(task, undefined);
  }

  /** run(), for a task made once and given its argument: no closure per call while idle. */
  runWith<A>(task: (arg: A) => void | Promise<void>, arg: A): void {
    if (this.tail === null) {
      let result: void | Promise<void>;
      try {
        result = task(arg);
      } catch (err) {
        this.onError(err);
        return;
      }
      if (result) this.hold(result.catch(this.onError));
      return;
    }
    this.hold(this.tail.then(() => task(arg)).catch(this.onError));
  }

  /** Runs a task in turn and resolves (or rejects) with its outcome. */
  call<T>(task: () => Promise<T>): Promise<T> {
    const result = (this.tail ?? Promise.resolve()).then(task);
    this.hold(
      result.then(
        () => undefined,
        () => undefined,
      ),
    );
    return result;
  }

  private hold(settled: Promise<void>): void {
    const tail: Promise<void> = settled.then(() => {
      if (this.tail === tail) this.tail = null;
    });
    this.tail = tail;
  }
}
