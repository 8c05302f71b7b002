// The JSON body of a GraphQL request. Almost every one is a small, uncompressed POST of
// `application/json` with its Content-Length: read here in a few lines. Anything else (another
// content type or charset, a compressed or chunked body, one announced over the limit) goes to
// Express's JSON parser as before, so its checks and errors stay the same. body-parser's path
// (type-is, raw-body with an iconv decoder, on-finished) was ~6 % of a history page's CPU.
import type { IncomingMessage } from 'node:http';
import express, { type RequestHandler } from 'express';

const PLAIN_JSON = new Set(['application/json', 'application/json; charset=utf-8']);

/** An error the app's error handler answers as body-parser's would be (status and type). */
export const bodyError = (status: number, type: string, message: string) =>
  Object.assign(new Error(message), { status, statusCode: status, type, expose: true });

/** A POST whose body is plain JSON with a Content-Length within the limit: read by readPlainJson. */
export function isPlainJsonPost(req: IncomingMessage, limitBytes: number): boolean {
  const type = req.headers['content-type'];
  const length = Number(req.headers['content-length']);
  return (
    req.method === 'POST' &&
    type !== undefined &&
    PLAIN_JSON.has(type.toLowerCase()) &&
    req.headers['content-encoding'] === undefined &&
    req.headers['transfer-encoding'] === undefined &&
    Number.isSafeInteger(length) &&
    length > 0 &&
    length <= limitBytes
  );
}

/** Reads and parses a body that isPlainJsonPost accepted; errors are body-parser's. */
export function readPlainJson(
  req: IncomingMessage,
  done: (err: Error | null, body?: unknown) => void,
): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.once('error', (err) => done(Object.assign(err, { status: 400, type: 'request.aborted' })));
  req.once('end', () => {
    let text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark, as iconv drops it
    const first = text.trimStart()[0];
    // Strict, as body-parser is: an object or an array, nothing else.
    if (first !== '{' && first !== '[') {
      done(bodyError(400, 'entity.parse.failed', 'Unexpected token in JSON body'));
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      done(bodyError(400, 'entity.parse.failed', 'Malformed JSON body'));
      return;
    }
    done(null, body);
  });
}

export function jsonBody(limitBytes: number): RequestHandler {
  const general = express.json({ limit: limitBytes });
  return (req, res, next) => {
    if (!isPlainJsonPost(req, limitBytes)) {
      general(req, res, next);
      return;
    }
    readPlainJson(req, (err, body) => {
      if (err) return next(err);
      req.body = body;
      next();
    });
  };
}
