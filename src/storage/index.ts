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
