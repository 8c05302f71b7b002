// Group commit for sends. Every send takes its conversation's row lock until it commits (that is
// how seq stays gap-free and in commit order), and every statement costs a round trip, a plan
// execution and a commit. So an instance gathers the plain sends it holds into one statement and
// one commit (parley_send_batch, drizzle/0018), whatever their conversations:
//
// - A send waits for the end of the current turn of the event loop (the requests read together
//   go together) and goes as soon as fewer than `maxInFlight` batches are running; under load the
//   sends that arrive meanwhile gather into the next batch, so the cost per send falls as load
//   rises (PostgreSQL CPU per message: 295 µs alone, 175 µs eight conversations a batch).
// - A conversation has at most one batch in flight per instance: its next sends wait for that
//   commit and go together, in arrival order, in a later batch (one lock, one commit for a hot
//   room's many sends).
// - Within a batch the conversations go in ascending id order, so batches of two instances that
//   share conversations lock them in the same order.
// - A batch the server refuses as a whole (nothing of it written) goes again one conversation at
//   a time, so a room whose lock is held past the statement timeout fails its own sends only.
//
// The cost: a batch waits for each of its conversations' locks, so a send into a quiet
// conversation can wait behind a room that another instance holds for one commit.
import { isDatabaseUnavailable, pgErrorCode, type Executor } from './client.js';
import { sendBatch, type SendItem, type SendResult } from './messages.js';

export interface SendBatcher {
  /** Sends one message; undefined when the sender is not a member of the conversation. */
  send(item: SendItem): Promise<SendResult | undefined>;
  /** Sends held: waiting for a batch, or in one not yet answered. */
  pending(): number;
}

interface Waiting {
  /** The conversation id in lower case: a batch's order and the in-flight key. */
  key: string;
  item: SendItem;
  resolve(result: SendResult | undefined): void;
  reject(err: unknown): void;
}

export function createSendBatcher(
  db: Executor,
  opts: { maxBatch?: number; maxInFlight?: number } = {},
): SendBatcher {
  const maxBatch = opts.maxBatch ?? 200;
  const maxInFlight = opts.maxInFlight ?? 4;
  // Sends not yet in a batch, in arrival order.
  let waiting: Waiting[] = [];
  // Conversations with a batch in flight.
  const busy = new Set<string>();
  let inFlight = 0;
  let pending = 0;
  let scheduled = false;

  // One statement for `sends`, each answered with its result; rejects with the statement's error
  // (the statement failed as a whole: nothing of it was written).
  const attempt = (sends: readonly Waiting[]): Promise<void> =>
    sendBatch(
      db,
      sends.map((w) => w.item),
    ).then((results) => sends.forEach((w, i) => w.resolve(results[i])));
  const fail = (sends: readonly Waiting[], err: unknown) => sends.forEach((w) => w.reject(err));
  // Only an error the server reported for the statement says it was rolled back: after a lost
  // connection (or a server going away) the batch may have committed, and sending its messages
  // again (those without a client message id) would store them twice.
  const refusedByServer = (err: unknown) =>
    pgErrorCode(err) !== undefined && !isDatabaseUnavailable(err);

  const run = (batch: Waiting[]): void => {
    inFlight++;
    for (const w of batch) busy.add(w.key);
    // Stable: a conversation's sends keep their arrival order.
    batch.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    attempt(batch)
      // One room's trouble (say a lock held past the statement timeout) must not fail the sends
      // into the others: each conversation goes again on its own, and only its own sends get
      // its error.
      .catch(async (err: unknown) => {
        const rooms = new Map<string, Waiting[]>();
        for (const w of batch) rooms.set(w.key, [...(rooms.get(w.key) ?? []), w]);
        if (rooms.size === 1 || !refusedByServer(err)) return fail(batch, err);
        await Promise.all(
          [...rooms.values()].map((sends) => attempt(sends).catch((e: unknown) => fail(sends, e))),
        );
      })
      .finally(() => {
        pending -= batch.length;
        inFlight--;
        for (const w of batch) busy.delete(w.key);
        pump();
      });
  };

  // Starts batches while slots are free and sends wait whose conversations are not in flight.
  const pump = (): void => {
    scheduled = false;
    while (inFlight < maxInFlight && waiting.length > 0) {
      const batch: Waiting[] = [];
      const rest: Waiting[] = [];
      for (const w of waiting) {
        if (batch.length < maxBatch && !busy.has(w.key)) batch.push(w);
        else rest.push(w);
      }
      if (batch.length === 0) return;
      waiting = rest;
      run(batch);
    }
  };

  return {
    send(item) {
      pending++;
      return new Promise((resolve, reject) => {
        waiting.push({ key: item.conversationId.toLowerCase(), item, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(pump);
        }
      });
    },
    pending: () => pending,
  };
}
