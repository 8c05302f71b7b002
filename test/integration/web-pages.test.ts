// The browser pages on the API's port: who gets GraphiQL on /graphql, the demo page at /, asset
// caching, the settings that turn them off, and a clear answer when they are not built.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebPages } from '../../src/web-pages.js';
import { startApp, type TestApp } from '../support/app.js';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const origin = (app: TestApp) => app.url.replace(/\/graphql$/, '');

describe('GraphiQL and the demo page (built by the test setup)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp('pglite');
  });
  afterAll(async () => {
    await app?.close();
  });

  it('gives a browser GraphiQL on /graphql and the demo at /, from this origin only', async () => {
    const graphiql = await fetch(app.url, { headers: { accept: BROWSER_ACCEPT } });
    expect(graphiql.status).toBe(200);
    expect(graphiql.headers.get('content-type')).toMatch(/^text\/html/);
    expect(graphiql.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await graphiql.text();
    expect(html).toContain('GraphiQL');
    expect(html).not.toMatch(/https?:\/\//);

    const demo = await fetch(`${origin(app)}/`);
    expect(demo.status).toBe(200);
    const page = await demo.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${origin(app)}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${origin(app)}/assets/nope.js`)).status).toBe(404);
  });

  it('gives GraphQL Playground at /playground, its bundle from this origin', async () => {
    const playground = await fetch(`${origin(app)}/playground`);
    expect(playground.status).toBe(200);
    expect(playground.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await playground.text();
    expect(html).toContain('GraphQL Playground');
    expect(html).not.toMatch(/https?:\/\//);
    const bundle = await fetch(`${origin(app)}/playground/middleware.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(
      /^application\/javascript|^text\/javascript/,
    );
    expect(await bundle.text()).toContain('GraphQLPlayground');
    expect((await fetch(`${origin(app)}/playground/nope.js`)).status).toBe(404);
  });

  it('still answers GraphQL clients on the same URL', async () => {
    const get = await fetch(`${app.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(await get.json()).toEqual({ data: { __typename: 'Query' } });
    const post = await app.gql('{ __typename }');
    expect(post.data).toEqual({ __typename: 'Query' });
  });
});

/** The pages alone on an Express app (what falls through answers 418), on a free port. */
async function withPages(
  opts: Parameters<typeof createWebPages>[0],
  run: (base: string) => Promise<void>,
): Promise<void> {
  const server = express()
    .use(createWebPages(opts))
    .use((_req, res) => void res.status(418).end())
    .listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.close();
  }
}

describe('the pages alone', () => {
  it('are not served when the settings turn them off (the production default)', async () => {
    await withPages({ graphiql: false, demoPage: false }, async (base) => {
      const res = await fetch(`${base}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
      expect(res.status).toBe(418); // left to the API
      expect((await fetch(`${base}/`)).status).toBe(418);
      expect((await fetch(`${base}/assets/x.js`)).status).toBe(418);
      expect((await fetch(`${base}/playground`)).status).toBe(418);
      expect((await fetch(`${base}/playground/middleware.js`)).status).toBe(418);
    });
  });

  it('answer 503 with what to run when they are not built, not a crash', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'parley-web-'));
    try {
      await withPages({ graphiql: true, demoPage: true, distDir: empty }, async (base) => {
        const res = await fetch(`${base}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
        expect(res.status).toBe(503);
        expect(await res.text()).toContain('npm run build:web');
        expect((await fetch(`${base}/`)).status).toBe(503);
        expect((await fetch(`${base}/playground`)).status).toBe(503);
      });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
