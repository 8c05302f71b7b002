// Group commit for sends into one conversation. Every send takes the conversation's row lock
// until it commits (that is how seq stays gap-free and in commit order), so sends into one
// conversation wait for each other's commits. Instead of queueing at the lock one by one, the
// sends an instance holds for a conversation while its previous batch is committing go together
// in the next one: one statement, one lock, one commit for all of them. A send that finds no
// batch in flight goes at once, so a quiet conversation waits for nothing.
import type { Executor } from './client.js';
import { sendBatch, type SendItem, type SendResult } from './messages.js';

export interface SendBatcher {
  /** Sends one message; undefined when the sender is not a member of the conversation. */
  send(conversationId: string, item: SendItem): Promise<SendResult | undefined>;
}

interface Waiting {
  item: SendItem;
  resolve(result: SendResult | undefined): void;
  reject(err: unknown): void;
}

export function createSendBatcher(db: Executor, maxBatch = 200): SendBatcher {
  // Conversations with a batch in flight → the sends that arrived meanwhile.
  const gathering = new Map<string, Waiting[]>();

  const run = (conversationId: string, batch: Waiting[]): void => {
    sendBatch(
      db,
      conversationId,
      batch.map((w) => w.item),
    )
      .then(
        (results) => batch.forEach((w, i) => w.resolve(results[i])),
        // The statement failed as a whole: nothing of the batch was written.
        (err: unknown) => batch.forEach((w) => w.reject(err)),
      )
      .finally(() => {
        const next = gathering.get(conversationId)!;
        if (next.length === 0) gathering.delete(conversationId);
        else run(conversationId, next.splice(0, maxBatch));
      });
  };

  return {
    send(conversationId, item) {
      return new Promise((resolve, reject) => {
        const waiting = { item, resolve, reject };
        const gathered = gathering.get(conversationId);
        if (gathered) {
          gathered.push(waiting);
          return;
        }
        gathering.set(conversationId, []);
        run(conversationId, [waiting]);
      });
    },
  };
}
