// Removing attachment files. Files to remove are first recorded in `discarded_blobs`, in the same
// transaction that drops their rows (a stale upload's, a deleted message's, a failed upload's), and then removed
// from storage and forgotten. A crash in between leaves the record for the next round, never a
// file nobody knows about.
import {
  deleteStaleUploads,
  discardBlobs,
  forgetDiscardedBlobs,
  lockDiscardedBlobs,
} from '../db/attachments.js';
import type { Database } from '../db/client.js';
import { blobKeysOf, type BlobStore } from '../storage/blob-store.js';
import type { LogSink } from './events.js';

export interface SweepOptions {
  /** Uploads not attached within this are removed. */
  unattachedTtlSeconds: number;
  intervalMs: number;
  /** More clean-up for each round (left-over spool files). */
  alsoSweep?: () => Promise<unknown>;
}

const BATCH = 500;

/**
 * Removes the discarded files from storage, a batch at a time; rows another instance is working
 * on are skipped. A batch whose removal fails stays recorded and is tried again next round.
 */
export async function removeDiscardedBlobs(db: Database, blobs: BlobStore): Promise<number> {
  let total = 0;
  for (;;) {
    const removed = await db.transaction(async (tx) => {
      const keys = await lockDiscardedBlobs(tx, BATCH);
      await blobs.delete(keys);
      await forgetDiscardedBlobs(tx, keys);
      return keys.length;
    });
    total += removed;
    if (removed < BATCH) return total;
  }
}

/**
 * Every instance sweeps now and then: uploads never attached within the TTL are dropped, and
 * discarded files are removed. `soon()` asks for a round of removals now (after a message with
 * attachments was deleted) rather than at the next tick.
 */
export function createAttachmentSweeper(
  db: Database,
  blobs: BlobStore,
  log: LogSink,
  opts: SweepOptions,
) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let removing: Promise<unknown> | undefined;
  let again = false;
  let stopped = false;

  const removeDiscarded = (): Promise<unknown> => {
    if (stopped) return Promise.resolve();
    if (removing) {
      again = true;
      return removing;
    }
    removing = removeDiscardedBlobs(db, blobs)
      .catch((err: unknown) => log.warn({ err }, 'could not remove discarded files'))
      .finally(() => {
        removing = undefined;
        if (again) {
          again = false;
          void removeDiscarded();
        }
      });
    return removing;
  };

  const sweepOnce = async (): Promise<number> => {
    let total = 0;
    for (;;) {
      const swept = await db.transaction(async (tx) => {
        const rows = await deleteStaleUploads(tx, opts.unattachedTtlSeconds, BATCH);
        await discardBlobs(tx, rows.flatMap(blobKeysOf));
        return rows.length;
      });
      total += swept;
      if (swept < BATCH) break;
    }
    await removeDiscarded();
    await opts.alsoSweep?.();
    return total;
  };
  const schedule = () => {
    timer = setTimeout(() => {
      running = sweepOnce()
        .catch((err: unknown) => log.error({ err }, 'attachment sweep failed'))
        .finally(() => {
          if (timer) schedule();
        });
    }, opts.intervalMs);
    timer.unref();
  };
  return {
    sweepOnce,
    start: schedule,
    soon: () => void removeDiscarded(),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await running;
      await removing;
    },
  };
}
