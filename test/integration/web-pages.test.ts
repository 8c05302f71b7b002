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
  let off: TestApp;
  beforeAll(async () => {
    [app, off] = await Promise.all([
      startApp('pglite'),
      startApp('pglite', { env: { NODE_ENV: 'production', GRAPHIQL: 'false' } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([app?.close(), off?.close()]);
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

  it('still answers GraphQL clients on the same URL', async () => {
    const get = await fetch(`${app.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(await get.json()).toEqual({ data: { __typename: 'Query' } });
    const post = await app.gql('{ __typename }');
    expect(post.data).toEqual({ __typename: 'Query' });
  });

  it('serves neither page when the settings turn them off (production default)', async () => {
    const graphiql = await fetch(off.url, { headers: { accept: BROWSER_ACCEPT } });
    expect(graphiql.headers.get('content-type')).not.toMatch(/^text\/html/);
    expect((await fetch(`${origin(off)}/`)).status).toBe(404);
  });
});

describe('pages that are not built', () => {
  it('answer 503 with what to run, not a crash', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'parley-web-'));
    const server = express()
      .use(createWebPages({ graphiql: true, demoPage: true, distDir: empty }))
      .listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await fetch(`${base}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build:web');
      expect((await fetch(`${base}/`)).status).toBe(503);
    } finally {
      server.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
