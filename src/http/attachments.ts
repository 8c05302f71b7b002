// HTTP for attachments: POST /attachments (multipart upload, streamed to a spool file with a
// byte limit) and GET /attachments/:id[/thumbnail] (whole or ranged downloads). Thin: the rules
// are in src/domain/attachments.ts. Errors are JSON: { error: { code, message } }.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import express, { type Request, type Response } from 'express';
import {
  acceptUpload,
  ATTACHMENT_TYPES,
  checkUploadAllowed,
  findDownload,
  UploadError,
  type DownloadAuth,
  type UploadErrorCode,
} from '../domain/attachments.js';
import type { Deps } from '../domain/context.js';
import { DomainError } from '../domain/errors.js';
import { authenticate } from '../domain/auth.js';
import type { Logger } from '../logger.js';
import type { BlobVariant } from '../storage/blob-store.js';
import { discardBody, receiveFile, tooLarge } from './multipart.js';

type HttpErrorCode =
  UploadErrorCode | 'NOT_FOUND' | 'RANGE_NOT_SATISFIABLE' | 'INTERNAL_SERVER_ERROR';

const STATUS: Record<HttpErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  RATE_LIMITED: 429,
  INTERNAL_SERVER_ERROR: 500,
};

/** Room for multipart boundaries and part headers around the file itself. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/** A year: what an id names never changes. */
const CACHE_CONTROL = 'private, max-age=31536000, immutable';

export function attachmentRoutes(
  deps: Deps,
  opts: { spoolDir: string; logger: Logger },
): express.Router {
  const { logger } = opts;
  const maxBytes = deps.attachments.maxBytes;
  mkdirSync(opts.spoolDir, { recursive: true });
  const router = express.Router();

  const sendError = (
    req: Request,
    res: Response,
    code: HttpErrorCode,
    message: string,
    headers: Record<string, string> = {},
  ) => {
    discardBody(req);
    if (res.headersSent) return;
    res.set(headers).status(STATUS[code]).json({ error: { code, message } });
  };

  const unexpected = (req: Request, res: Response, err: unknown) => {
    const errorId = randomUUID();
    logger.error({ err, errorId, path: req.path }, 'attachment request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(
      req,
      res,
      'INTERNAL_SERVER_ERROR',
      `Unexpected error. If it persists, report error id ${errorId}.`,
    );
  };

  router.post('/attachments', async (req, res) => {
    try {
      const auth = await authenticate(deps, req.headers.authorization);
      if ('error' in auth) return sendError(req, res, 'UNAUTHENTICATED', auth.error.message);
      try {
        await checkUploadAllowed(deps.rateLimiter, auth.userId);
      } catch (err) {
        if (err instanceof DomainError && err.code === 'RATE_LIMITED') {
          const retryAfter = String(err.extensions['retryAfterSeconds'] ?? 60);
          return sendError(req, res, 'RATE_LIMITED', err.message, { 'retry-after': retryAfter });
        }
        throw err;
      }
      if (!req.is('multipart/form-data')) {
        return sendError(
          req,
          res,
          'BAD_REQUEST',
          'Send the file as multipart/form-data, in a form field named "file".',
        );
      }
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes + MULTIPART_OVERHEAD_BYTES) {
        return sendError(req, res, 'PAYLOAD_TOO_LARGE', tooLarge(maxBytes));
      }
      const spooled = await receiveFile(req, opts.spoolDir, maxBytes);
      const row = await acceptUpload(deps.db, deps.attachments, auth.userId, spooled);
      res.status(201).json({
        id: row.id,
        mimeType: row.mimeType,
        size: row.size,
        width: row.width,
        height: row.height,
        filename: row.filename,
      });
    } catch (err) {
      if (err instanceof UploadError) return sendError(req, res, err.code, err.message);
      unexpected(req, res, err);
    }
  });

  const download = (variant: BlobVariant) => async (req: Request, res: Response) => {
    try {
      const id = String(req.params['id']);
      const { exp, sig } = req.query;
      let auth: DownloadAuth;
      if (typeof exp === 'string' && typeof sig === 'string') {
        auth = { kind: 'signed', expires: exp, signature: sig };
      } else {
        const user = await authenticate(deps, req.headers.authorization);
        if ('error' in user) {
          return sendError(
            req,
            res,
            'UNAUTHENTICATED',
            `${user.error.message} (or use the signed url from Message.attachments)`,
          );
        }
        auth = { kind: 'user', userId: user.userId };
      }
      const found = await findDownload(deps.db, deps.attachments.urls, id, variant, auth);
      if (!found) return notFound(req, res);

      const etag = `"${found.attachment.id}${variant === 'thumbnail' ? '-thumbnail' : ''}"`;
      const inline = INLINE_TYPES.has(found.contentType);
      res.set({
        'content-type':
          found.contentType === 'text/plain' ? 'text/plain; charset=utf-8' : found.contentType,
        'content-disposition': contentDisposition(inline ? 'inline' : 'attachment', found.filename),
        'cache-control': CACHE_CONTROL,
        etag,
        'accept-ranges': 'bytes',
        'x-content-type-options': 'nosniff',
      });
      if (matchesEtag(req.headers['if-none-match'], etag)) {
        res.status(304).end();
        return;
      }
      let range: { start: number; end: number } | undefined;
      const ifRange = req.headers['if-range'];
      if (req.headers.range && (ifRange === undefined || ifRange === etag)) {
        const parsed = req.range(found.size);
        if (parsed === -1) {
          res.set('content-range', `bytes */${found.size}`);
          return sendError(
            req,
            res,
            'RANGE_NOT_SATISFIABLE',
            'The requested range is outside the file.',
          );
        }
        // Malformed (-2) or several ranges: the whole file, as HTTP allows.
        if (Array.isArray(parsed) && parsed.length === 1 && parsed.type === 'bytes') {
          range = { start: parsed[0]!.start, end: parsed[0]!.end };
        }
      }
      const length = range ? range.end - range.start + 1 : found.size;
      res.status(range ? 206 : 200).set('content-length', String(length));
      if (range) res.set('content-range', `bytes ${range.start}-${range.end}/${found.size}`);
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      let body;
      try {
        body = await deps.attachments.blobs.get(found.key, range);
      } catch (err) {
        logger.warn({ err, id }, 'attachment blob missing');
        return notFound(req, res);
      }
      await pipeline(body, res).catch(() => {
        // The client went away mid-download: nothing to answer.
      });
    } catch (err) {
      unexpected(req, res, err);
    }
  };

  const notFound = (req: Request, res: Response) => {
    // Any headers set for the file must not describe the error.
    for (const h of ['content-disposition', 'etag', 'cache-control', 'accept-ranges']) {
      res.removeHeader(h);
    }
    sendError(
      req,
      res,
      'NOT_FOUND',
      'Attachment not found (it does not exist or you are not a member of its conversation).',
    );
  };

  router.get('/attachments/:id', download('original'));
  router.get('/attachments/:id/thumbnail', download('thumbnail'));
  return router;
}

// Every accepted type is one a browser shows itself.
const INLINE_TYPES = new Set<string>(ATTACHMENT_TYPES);

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === etag || t === '*');
}

/** RFC 6266: an ASCII fallback name plus the exact one in RFC 5987 encoding. */
export function contentDisposition(type: 'inline' | 'attachment', filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
