// CORS for browser apps on other origins (a Vite or Next dev server, a hosted IDE). Auth is a
// bearer header and never a cookie, so credentials are not allowed and any header a client asks
// for (content-type, authorization, Apollo's and urql's own) is allowed: a page gets nothing
// this way that it could not get by sending the user's token itself.
import cors from 'cors';
import type { RequestHandler } from 'express';
import type { CorsOrigins } from '../config.js';

/** Null when no other origin may call (same origin only). */
export function corsMiddleware(origins: CorsOrigins): RequestHandler | null {
  if (origins !== '*' && origins.length === 0) return null;
  return cors({
    // A list is matched exactly and the matching origin echoed, with Vary: Origin.
    origin: origins === '*' ? '*' : [...origins],
    methods: ['GET', 'HEAD', 'POST'],
    // allowedHeaders unset: the preflight's Access-Control-Request-Headers are echoed.
    exposedHeaders: ['x-request-id', 'retry-after', 'content-disposition'],
    credentials: false,
    // Browsers cap it (Chromium at 2 h); 10 min spares most preflights.
    maxAge: 600,
  });
}
