// The browser pages on the API's port: GraphiQL on GET /graphql for browsers (Accept: text/html),
// GraphQL Playground at /playground (with GraphiQL: both are IDEs) and the demo chat at /. Vite builds both into web/dist (`npm run build:web`, which `npm start`
// runs when the build is missing or stale); the server only serves the files, and answers a
// clear message instead when they are not built.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Request, type RequestHandler, type Router } from 'express';

export const WEB_DIST_DIR = fileURLToPath(new URL('../web/dist/', import.meta.url));

// Everything comes from this origin (no CDN, so the pages work offline); inline styles are for
// React's style attributes and the editor's measurements.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export interface WebPagesOptions {
  graphiql: boolean;
  demoPage: boolean;
  /** Where the built pages are (default web/dist). */
  distDir?: string;
}

/** Answers only what the settings turn on; everything else falls through to the API. */
export function createWebPages(opts: WebPagesOptions): Router {
  const dir = opts.distDir ?? WEB_DIST_DIR;
  const router = express.Router();
  if (!opts.graphiql && !opts.demoPage) return router;

  // Vite puts a content hash in every asset's name: a changed file gets a new name.
  router.use(
    '/assets',
    express.static(path.join(dir, 'assets'), {
      immutable: true,
      maxAge: '1y',
      index: false,
      setHeaders: (res) => res.setHeader('x-content-type-options', 'nosniff'),
    }),
    (_req, res) => {
      res.status(404).type('text/plain').send('No such asset.');
    },
  );

  const page =
    (file: string, what: string): RequestHandler =>
    (_req, res) => {
      const full = path.join(dir, file);
      if (!existsSync(full)) {
        res
          .status(503)
          .type('text/plain')
          .send(`${what} is not built: run "npm run build:web" (npm start builds it).\n`);
        return;
      }
      res.setHeader('cache-control', 'no-cache');
      res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
      res.setHeader('x-content-type-options', 'nosniff');
      res.sendFile(full);
    };

  if (opts.graphiql) {
    const graphiql = page('graphiql.html', 'GraphiQL');
    router.get('/graphql', (req, res, next) =>
      prefersHtml(req) ? graphiql(req, res, next) : next(),
    );
    router.get('/playground', page('playground.html', 'GraphQL Playground'));
    // Its prebuilt bundle, copied as it is (no hash in the name): revalidated, not immutable.
    router.use(
      '/playground',
      express.static(path.join(dir, 'playground'), {
        index: false,
        setHeaders: (res) => {
          res.setHeader('cache-control', 'no-cache');
          res.setHeader('x-content-type-options', 'nosniff');
        },
      }),
    );
  }
  if (opts.demoPage) router.get('/', page('index.html', 'The demo page'));
  return router;
}

/** A browser navigating to the URL, rather than a client asking for a GraphQL response. */
function prefersHtml(req: Request): boolean {
  const type = req.accepts(['application/json', 'application/graphql-response+json', 'text/html']);
  return type === 'text/html';
}
