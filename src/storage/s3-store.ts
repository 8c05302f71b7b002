// Blobs in an S3-compatible bucket (AWS S3, MinIO, R2, ...), under S3_KEY_PREFIX. Ranges are
// passed through to GetObject, so partial downloads do not fetch whole objects.
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { S3Config } from '../config.js';
import type { BlobStore } from './blob-store.js';

/** What the store needs of an S3 client (the real S3Client, or a recorder in unit tests). */
export interface S3Sender {
  send(command: PutObjectCommand | GetObjectCommand | DeleteObjectsCommand): Promise<unknown>;
}

/**
 * Against AWS the SDK's defaults stand. Against another S3-compatible endpoint the SDK adds a
 * checksum only where the operation requires one: by default it streams every upload as
 * `aws-chunked` with a trailing CRC32 (no Content-Length), which many S3-compatible stores and
 * proxies refuse.
 */
export function s3ClientConfig(config: S3Config): S3ClientConfig {
  return {
    region: config.region,
    ...(config.endpoint
      ? {
          endpoint: config.endpoint,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }
      : {}),
    forcePathStyle: config.forcePathStyle,
    ...(config.accessKeyId && config.secretAccessKey
      ? {
          credentials: {
            accessKeyId: config.accessKeyId,
            secretAccessKey: config.secretAccessKey,
          },
        }
      : {}),
  };
}

/** DeleteObjects takes at most this many keys. */
const MAX_DELETE_KEYS = 1_000;

export function createS3BlobStore(
  config: S3Config,
  client: S3Sender = new S3Client(s3ClientConfig(config)),
): BlobStore {
  const objectKey = (key: string) => `${config.keyPrefix}${key}`;
  return {
    kind: 's3',
    async put(key, sourcePath, info) {
      await client.send(
        new PutObjectCommand({
          Bucket: config.bucket,
          Key: objectKey(key),
          Body: createReadStream(sourcePath),
          ContentLength: info.size,
          ContentType: info.contentType,
        }),
      );
      await unlink(sourcePath).catch(() => undefined);
    },
    async get(key, range) {
      const out = (await client.send(
        new GetObjectCommand({
          Bucket: config.bucket,
          Key: objectKey(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      )) as { Body?: unknown };
      if (!out.Body) throw new Error(`no body for ${key}`);
      // In Node the SDK's body is an http.IncomingMessage (a Readable).
      return out.Body as Readable;
    },
    async delete(keys) {
      for (let i = 0; i < keys.length; i += MAX_DELETE_KEYS) {
        const batch = keys.slice(i, i + MAX_DELETE_KEYS);
        await client.send(
          new DeleteObjectsCommand({
            Bucket: config.bucket,
            Delete: { Objects: batch.map((k) => ({ Key: objectKey(k) })), Quiet: true },
          }),
        );
      }
    },
  };
}
