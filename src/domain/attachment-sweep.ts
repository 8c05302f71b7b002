// Uploads that were never sent are deleted after a while, rows first, then their blobs.
import type { Database } from '../db/client.js';
import { deleteStaleUploads } from '../db/attachments.js';
import { blobKey, type BlobStore } from '../storage/blob-store.js';
import type { LogSink } from './events.js';

export interface SweepOptions {
  /** Uploads not attached within this are removed. */
  unattachedTtlSeconds: number;
  intervalMs: number;
  /** More clean-up for each round (left-over spool files). */
  alsoSweep?: () => Promise<unknown>;
}

/**
 * Every instance sweeps now and then: rows of stale uploads are deleted (instances skip each
 * other's locked rows), then their blobs. A blob whose delete fails stays behind unreferenced.
 */
export function createAttachmentSweeper(
  db: Database,
  blobs: BlobStore,
  log: LogSink,
  opts: SweepOptions,
) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const sweepOnce = async (): Promise<number> => {
    let total = 0;
    for (;;) {
      const rows = await deleteStaleUploads(db, opts.unattachedTtlSeconds, 500);
      const keys = rows.flatMap((r) =>
        r.thumbnail_size === null
          ? [blobKey(r.id, 'original')]
          : [blobKey(r.id, 'original'), blobKey(r.id, 'thumbnail')],
      );
      await blobs.delete(keys).catch((err: unknown) => {
        log.warn({ err: String(err), count: keys.length }, 'could not delete swept blobs');
      });
      total += rows.length;
      if (rows.length < 500) break;
    }
    await opts.alsoSweep?.();
    return total;
  };
  const schedule = () => {
    timer = setTimeout(() => {
      running = sweepOnce()
        .catch((err: unknown) => log.error({ err: String(err) }, 'attachment sweep failed'))
        .finally(() => {
          if (timer) schedule();
        });
    }, opts.intervalMs);
    timer.unref();
  };
  return {
    sweepOnce,
    start: schedule,
    async stop() {
      clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
