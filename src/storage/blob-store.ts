// Where attachment bytes live, behind one small interface: a local folder (the default) or an
// S3-compatible bucket. Keys are ours (an attachment id and a variant), never a client's input.
import type { Readable } from 'node:stream';

/** An inclusive byte range, as HTTP Range requests name them. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStore {
  readonly kind: 'local' | 's3';
  /** Stores the file at `sourcePath` under `key`; the source file is consumed (moved or left to delete). */
  put(key: string, sourcePath: string, info: { contentType: string; size: number }): Promise<void>;
  /** The bytes stored under `key` (all, or one range). Rejects when there is no such blob. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Removes blobs; keys that do not exist are ignored. */
  delete(keys: readonly string[]): Promise<void>;
}

export type BlobVariant = 'original' | 'thumbnail';

export const blobKey = (attachmentId: string, variant: BlobVariant): string =>
  variant === 'original' ? attachmentId : `${attachmentId}.thumbnail`;

/** The stored files of an attachment: its original, and its thumbnail when it has one. */
export const blobKeysOf = (row: { id: string; thumbnailSize: number | null }): string[] =>
  row.thumbnailSize === null
    ? [blobKey(row.id, 'original')]
    : [blobKey(row.id, 'original'), blobKey(row.id, 'thumbnail')];
