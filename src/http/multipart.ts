// One file out of a multipart/form-data body (busboy), streamed to a spool file with a byte
// limit: a larger file is refused as soon as it crosses the limit, and what was written is removed.
import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Request } from 'express';
import { UploadError, type SpooledUpload } from '../domain/attachments.js';

/** After refusing an upload, this much more of its body is read and dropped, then the connection is cut. */
const MAX_DISCARD_BYTES = 64 * 1024 * 1024;

export const tooLarge = (maxBytes: number) =>
  `The file is larger than the limit of ${maxBytes} bytes.`;

/** Reads and drops what is left of a refused request body, up to a bound, then cuts it off. */
export function discardBody(req: Request): void {
  if (req.readableEnded || req.destroyed) return;
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > MAX_DISCARD_BYTES) req.destroy();
  });
  req.resume();
}

/**
 * Streams the one file of a multipart body to a new spool file, stopping at `maxBytes`: a larger
 * file is refused as soon as the limit is crossed and what was written is deleted.
 */
export function receiveFile(
  req: Request,
  spoolDir: string,
  maxBytes: number,
): Promise<SpooledUpload> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        // busboy signals the limit on reaching it: one byte more tells "over" from "exactly".
        limits: { files: 1, fileSize: maxBytes + 1, fields: 10, fieldSize: 4_096, parts: 20 },
      });
    } catch {
      reject(new UploadError('BAD_REQUEST', 'Malformed multipart/form-data header.'));
      return;
    }
    let settled = false;
    let file:
      | {
          path: string;
          filename: string | undefined;
          out: WriteStream;
          written: Promise<void>;
          size: number;
        }
      | undefined;

    const fail = (error: UploadError) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      const current = file;
      const removed = current
        ? new Promise<void>((done) => {
            if (current.out.closed) return done();
            current.out.once('close', () => done());
            current.out.destroy();
          }).then(() => rm(current.path, { force: true }))
        : Promise.resolve();
      removed.then(
        () => reject(error),
        () => reject(error),
      );
    };
    const badRequest = (message: string) => fail(new UploadError('BAD_REQUEST', message));

    parser.on('file', (field, stream, info) => {
      if (settled) return void stream.resume();
      if (field !== 'file') {
        stream.resume();
        return badRequest(
          `Send the file in a form field named "file" (not "${field.slice(0, 40)}").`,
        );
      }
      const target = path.join(spoolDir, randomUUID());
      const out = createWriteStream(target, { flags: 'wx' });
      const current = {
        path: target,
        filename: info.filename,
        out,
        size: 0,
        written: Promise.resolve(),
      };
      file = current;
      stream.on('data', (chunk: Buffer) => {
        current.size += chunk.length;
      });
      stream.on('limit', () => fail(new UploadError('PAYLOAD_TOO_LARGE', tooLarge(maxBytes))));
      current.written = pipeline(stream, out);
      current.written.catch(() => badRequest('The upload was interrupted.'));
    });
    parser.on('filesLimit', () => badRequest('Send one file per request.'));
    parser.on('partsLimit', () => badRequest('Too many form fields.'));
    parser.on('fieldsLimit', () => badRequest('Too many form fields.'));
    parser.on('error', () => badRequest('Malformed multipart/form-data body.'));
    parser.on('close', () => {
      if (settled) return;
      const current = file;
      if (!current) return badRequest('No file: send it in a form field named "file".');
      current.written.then(
        () => {
          if (settled) return;
          settled = true;
          resolve({ path: current.path, size: current.size, filename: current.filename });
        },
        () => badRequest('The upload was interrupted.'),
      );
    });
    req.on('close', () => {
      if (!req.complete) badRequest('The upload was interrupted.');
    });
    req.pipe(parser);
  });
}
