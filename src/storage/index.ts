import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AttachmentConfig } from '../config.js';
import type { BlobStore } from './blob-store.js';
import { createLocalBlobStore } from './local-store.js';
import { createS3BlobStore } from './s3-store.js';

/** The blob store the settings select (ATTACHMENT_STORAGE). */
export function createBlobStore(config: AttachmentConfig): BlobStore {
  if (config.storage === 's3') return createS3BlobStore(config.s3!);
  return createLocalBlobStore(path.join(config.dir, 'blobs'));
}

/** Where uploads are written while they arrive, before they are checked and stored. */
export const spoolDir = (config: AttachmentConfig): string => path.join(config.dir, 'incoming');

/**
 * Removes spool files older than `maxAgeMs`: what a process that died mid-upload left behind
 * (an upload in progress is far younger: requests time out after minutes).
 */
export async function removeStaleSpoolFiles(dir: string, maxAgeMs: number): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile() && Date.now() - info.mtimeMs > maxAgeMs) {
      await rm(file, { force: true });
      removed += 1;
    }
  }
  return removed;
}
