// The JSON body of a GraphQL request. Almost every one is a small, uncompressed POST of
// `application/json` with its Content-Length: read here in a few lines. Anything else (another
// content type or charset, a compressed or chunked body, one announced over the limit) goes to
// Express's JSON parser as before, so its checks and errors stay the same. body-parser's path
// (type-is, raw-body with an iconv decoder, on-finished) was ~6 % of a history page's CPU.
import express, { type RequestHandler } from 'express';

const PLAIN_JSON = new Set(['application/json', 'application/json; charset=utf-8']);

/** An error the app's error handler answers as body-parser's would be (status and type). */
const bodyError = (status: number, type: string, message: string) =>
  Object.assign(new Error(message), { status, statusCode: status, type, expose: true });

export function jsonBody(limitBytes: number): RequestHandler {
  const general = express.json({ limit: limitBytes });
  return (req, res, next) => {
    const type = req.headers['content-type'];
    const length = Number(req.headers['content-length']);
    if (
      req.method !== 'POST' ||
      type === undefined ||
      !PLAIN_JSON.has(type.toLowerCase()) ||
      req.headers['content-encoding'] !== undefined ||
      req.headers['transfer-encoding'] !== undefined ||
      !Number.isSafeInteger(length) ||
      length <= 0 ||
      length > limitBytes
    ) {
      general(req, res, next);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('error', (err) => next(Object.assign(err, { status: 400, type: 'request.aborted' })));
    req.once('end', () => {
      let text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark, as iconv drops it
      const first = text.trimStart()[0];
      // Strict, as body-parser is: an object or an array, nothing else.
      if (first !== '{' && first !== '[') {
        next(bodyError(400, 'entity.parse.failed', 'Unexpected token in JSON body'));
        return;
      }
      try {
        req.body = JSON.parse(text) as unknown;
      } catch {
        next(bodyError(400, 'entity.parse.failed', 'Malformed JSON body'));
        return;
      }
      next();
    });
  };
}
