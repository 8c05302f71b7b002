// Blobs as files under one folder: <root>/<first two characters of the key>/<key>. Files arrive by
// rename from the spool folder next to it (same file system), so a blob appears whole or not at all.
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore } from './blob-store.js';

export function createLocalBlobStore(root: string): BlobStore {
  const fileOf = (key: string) => {
    if (!/^[\w.-]+$/.test(key)) throw new Error(`bad blob key ${JSON.stringify(key)}`);
    return path.join(root, key.slice(0, 2), key);
  };
  return {
    kind: 'local',
    async put(key, sourcePath) {
      const target = fileOf(key);
      await mkdir(path.dirname(target), { recursive: true });
      try {
        await rename(sourcePath, target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        // Another file system: copy under a temporary name, then rename into place.
        const partial = `${target}.partial`;
        await copyFile(sourcePath, partial);
        await rename(partial, target);
        await unlink(sourcePath);
      }
    },
    get(key, range) {
      const stream = createReadStream(
        fileOf(key),
        range ? { start: range.start, end: range.end } : {},
      );
      // Resolve once the file is open, so a missing blob is a rejection rather than a broken body.
      return new Promise<Readable>((resolve, reject) => {
        stream.once('open', () => resolve(stream));
        stream.once('error', reject);
      });
    },
    async delete(keys) {
      await Promise.all(keys.map((key) => rm(fileOf(key), { force: true })));
    },
  };
}
