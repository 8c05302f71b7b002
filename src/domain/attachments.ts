// Attachments: what may be uploaded (judged by the bytes, never by the client's name or type),
// how an upload becomes stored blobs and a row, and who may download it. Signed download URLs
// are in attachment-urls.ts, the sweep of uploads never sent in attachment-sweep.ts.
import { createReadStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { fileTypeFromFile } from 'file-type';
import type { Database } from '../db/client.js';
import {
  deleteAttachment,
  discardBlobs,
  findAvatarAttachment,
  findSentAttachment,
  insertAttachment,
} from '../db/attachments.js';
import type { AttachmentRow } from '../db/schema.js';
import {
  makeThumbnail,
  normaliseImage,
  UnreadableImageError,
  type ImageType,
} from '../media/images.js';
import { blobKey, blobKeysOf, type BlobStore, type BlobVariant } from '../storage/blob-store.js';
import type { UrlSigner } from './attachment-urls.js';
import { badInput, notFound } from './errors.js';
import { isUuid, newId } from './ids.js';
import { limits } from './limits.js';
import type { RateLimiter } from './rate-limits.js';

export const ATTACHMENT_TYPES = [
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'application/pdf',
  'text/plain',
] as const;
export type AttachmentType = (typeof ATTACHMENT_TYPES)[number];

const IMAGE_TYPES: ReadonlySet<string> = new Set([
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
]);
export const isImageType = (type: string): type is ImageType => IMAGE_TYPES.has(type);

/** What an upload may fail with, answered over HTTP (not GraphQL). */
export type UploadErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHENTICATED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED';

export class UploadError extends Error {
  override name = 'UploadError';
  constructor(
    readonly code: UploadErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface AttachmentDeps {
  readonly blobs: BlobStore;
  readonly urls: UrlSigner;
  /** Largest upload, bytes. */
  readonly maxBytes: number;
  /** Asks for discarded files (of a deleted message) to be removed from storage now. */
  readonly removeDiscardedSoon: () => void;
}

// ---------------------------------------------------------------------------------------------
// Upload

/** An uploaded file as it was spooled to disk, before anything is known about its content. */
export interface SpooledUpload {
  readonly path: string;
  readonly size: number;
  /** The client's file name (only ever used, cleaned, for Content-Disposition). */
  readonly filename: string | undefined;
}

/** True when the file is UTF-8 text without NUL characters. */
async function isPlainText(path: string): Promise<boolean> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const chunk of createReadStream(path)) {
      const buffer = chunk as Buffer;
      if (buffer.includes(0)) return false;
      decoder.decode(buffer, { stream: true });
    }
    decoder.decode();
    return true;
  } catch {
    return false;
  }
}

/** The type of a file judged by its bytes; UNSUPPORTED_MEDIA_TYPE unless it is allowed. */
export async function sniffType(path: string): Promise<AttachmentType> {
  const detected = await fileTypeFromFile(path);
  if (detected) {
    if ((ATTACHMENT_TYPES as readonly string[]).includes(detected.mime)) {
      return detected.mime as AttachmentType;
    }
    throw unsupported(`its content is ${detected.mime}`);
  }
  if (await isPlainText(path)) return 'text/plain';
  throw unsupported('its content is not a known type');
}

const unsupported = (why: string) =>
  new UploadError(
    'UNSUPPORTED_MEDIA_TYPE',
    `This file cannot be attached: ${why}. Allowed: JPEG, PNG, WebP and GIF images, PDF and plain UTF-8 text.`,
  );

const EXTENSIONS: Record<AttachmentType, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
};

/**
 * A file name safe to store and to repeat in a header: the last path segment, no control or
 * bidirectional-override characters, at most 200 characters; a default from the type otherwise.
 */
export function cleanFilename(name: string | undefined, type: AttachmentType): string {
  const base = (name ?? '').split(/[/\\]/).pop() ?? '';
  const cleaned = [...base.toWellFormed()]
    .filter((c) => !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(c))
    .join('')
    .trim()
    .slice(0, 200);
  return cleaned && cleaned !== '.' && cleaned !== '..'
    ? cleaned
    : `attachment.${EXTENSIONS[type]}`;
}

/** Counts one upload against the user's limit (before any byte is read). */
export async function checkUploadAllowed(rateLimiter: RateLimiter, userId: string) {
  await rateLimiter.consume('uploadAttachment', userId);
}

/**
 * Turns a spooled upload into a stored attachment: checks its type by content, re-encodes images
 * without metadata and makes their thumbnail, writes the row (unattached), then the blobs. The
 * spooled file is gone afterwards, whatever happens.
 */
export async function acceptUpload(
  db: Database,
  deps: AttachmentDeps,
  uploaderId: string,
  upload: SpooledUpload,
): Promise<AttachmentRow> {
  const temporary = [upload.path];
  try {
    if (upload.size === 0) throw new UploadError('BAD_REQUEST', 'The file is empty.');
    const type = await sniffType(upload.path);
    let source = upload.path;
    let size = upload.size;
    let width: number | null = null;
    let height: number | null = null;
    let thumbnail: Buffer | null = null;
    if (isImageType(type)) {
      source = `${upload.path}.clean`;
      temporary.push(source);
      try {
        const image = await normaliseImage(upload.path, source, type);
        ({ size, width, height } = image);
        thumbnail = await makeThumbnail(source);
      } catch (err) {
        if (err instanceof UnreadableImageError) {
          throw unsupported(`it is not a readable ${type.slice(6).toUpperCase()} image`);
        }
        throw err;
      }
      if (size > deps.maxBytes) {
        throw new UploadError(
          'PAYLOAD_TOO_LARGE',
          `The file is larger than ${deps.maxBytes} bytes.`,
        );
      }
    }
    const row = await insertAttachment(db, {
      id: newId(),
      uploaderId,
      mimeType: type,
      size,
      width,
      height,
      filename: cleanFilename(upload.filename, type),
      thumbnailSize: thumbnail?.length ?? null,
    });
    try {
      if (thumbnail) {
        const thumbPath = `${upload.path}.thumbnail`;
        temporary.push(thumbPath);
        await writeFile(thumbPath, thumbnail);
        await deps.blobs.put(blobKey(row.id, 'thumbnail'), thumbPath, {
          contentType: 'image/webp',
          size: thumbnail.length,
        });
      }
      await deps.blobs.put(blobKey(row.id, 'original'), source, { contentType: type, size });
    } catch (err) {
      // The row goes, and whatever of its files was stored goes the way of every removed file
      // (attachment-sweep.ts): a storage that is failing does not leave them behind.
      await db.transaction(async (tx) => {
        await deleteAttachment(tx, row.id);
        await discardBlobs(tx, blobKeysOf(row));
      });
      deps.removeDiscardedSoon();
      throw err;
    }
    return row;
  } finally {
    await Promise.all(temporary.map((p) => rm(p, { force: true })));
  }
}

// ---------------------------------------------------------------------------------------------
// Attaching (the send itself is in messages.ts and parley_send_message)

export const attachmentNotFound = () =>
  notFound(
    'Attachment not found: attach your own uploads (POST /attachments) that are not attached to a message yet.',
  );

/** The attachment ids of a send: at most 10, no repeats; an id that cannot exist is NOT_FOUND. */
export function parseAttachmentIds(ids: readonly string[] | null | undefined): string[] {
  if (!ids || ids.length === 0) return [];
  if (ids.length > limits.maxAttachmentsPerMessage) {
    throw badInput(
      `A message can have at most ${limits.maxAttachmentsPerMessage} attachments.`,
      'attachmentIds',
    );
  }
  if (new Set(ids).size !== ids.length) {
    throw badInput('An attachment is listed twice.', 'attachmentIds');
  }
  if (!ids.every(isUuid)) throw attachmentNotFound();
  return [...ids];
}

// ---------------------------------------------------------------------------------------------
// Download

export interface Download {
  readonly attachment: AttachmentRow;
  readonly key: string;
  readonly contentType: string;
  readonly size: number;
  readonly filename: string;
}

export type DownloadAuth =
  | { readonly kind: 'user'; readonly userId: string }
  | { readonly kind: 'signed'; readonly expires: string; readonly signature: string };

/**
 * The blob to serve, or undefined (answered 404) when the attachment does not exist, is not
 * attached to a live message, the caller is not a member of its conversation, the signature is
 * wrong or expired, or (thumbnail) it has none.
 */
export async function findDownload(
  db: Database,
  urls: UrlSigner,
  id: string,
  variant: BlobVariant,
  auth: DownloadAuth,
): Promise<Download | undefined> {
  if (!isUuid(id)) return undefined;
  if (auth.kind === 'signed' && !urls.verify(id, variant, auth.expires, auth.signature)) {
    return undefined;
  }
  const viewerId = auth.kind === 'user' ? auth.userId : null;
  const attachment =
    (await findSentAttachment(db, id, viewerId)) ?? (await findAvatarAttachment(db, id, viewerId));
  if (!attachment) return undefined;
  if (variant === 'thumbnail') {
    if (attachment.thumbnailSize === null) return undefined;
    const stem = attachment.filename.replace(/\.[^.]*$/, '');
    return {
      attachment,
      key: blobKey(id, 'thumbnail'),
      contentType: 'image/webp',
      size: attachment.thumbnailSize,
      filename: `${stem || 'attachment'}-thumbnail.webp`,
    };
  }
  return {
    attachment,
    key: blobKey(id, 'original'),
    contentType: attachment.mimeType,
    size: attachment.size,
    filename: attachment.filename,
  };
}
