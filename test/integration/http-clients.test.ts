// HTTP as stock clients and browsers use it: urql with its default settings (short queries as
// GET), and the CORS answers a browser app on another origin needs (the real browser's side of
// it is in test/e2e/browser.test.ts).
import { Client, cacheExchange, fetchExchange } from '@urql/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUser, startApp, type TestApp, type TestUser } from '../support/app.js';

/** The request headers Apollo Client and urql send, beside content-type and authorization. */
const CLIENT_HEADERS = [
  'content-type',
  'authorization',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'apollographql-client-name',
  'apollographql-client-version',
  'accept',
];

describe('HTTP clients with their defaults (embedded, CORS_ORIGINS unset)', () => {
  let app: TestApp;
  let ann: TestUser;
  beforeAll(async () => {
    app = await startApp('pglite');
    ann = await registerUser(app, 'Ann');
  });
  afterAll(async () => app?.close());

  it('urql with its default settings sends a query as GET and gets the answer', async () => {
    const methods: string[] = [];
    const client = new Client({
      url: app.url,
      exchanges: [cacheExchange, fetchExchange],
      fetchOptions: { headers: { authorization: `Bearer ${ann.token}` } },
      fetch: (input, init) => {
        methods.push(init?.method ?? 'GET');
        return fetch(input, init);
      },
    });
    const result = await client.query(`query Me { me { id displayName } }`, {}).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data).toEqual({ me: { __typename: 'User', id: ann.id, displayName: 'Ann' } });
    expect(methods).toEqual(['GET']);

    // Mutations still go as POST, and work.
    const renamed = await client
      .mutation(`mutation { updateProfile(input: { displayName: "Ann B" }) { displayName } }`, {})
      .toPromise();
    expect(renamed.error).toBeUndefined();
    expect(methods).toEqual(['GET', 'POST']);
  });

  it('urql signed out gets UNAUTHENTICATED for a GET, which is refused unexecuted', async () => {
    const client = new Client({ url: app.url, exchanges: [cacheExchange, fetchExchange] });
    const result = await client.query(`{ __typename }`, {}).toPromise();
    expect(result.data).toBeUndefined();
    expect(result.error?.graphQLErrors[0]?.extensions['code']).toBe('UNAUTHENTICATED');
  });

  it('answers a preflight from any origin for the headers Apollo and urql send', async () => {
    const res = await fetch(app.url, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': CLIENT_HEADERS.join(','),
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')?.split(',')).toContain('POST');
    const allowed = res.headers.get('access-control-allow-headers')!.toLowerCase().split(',');
    for (const header of CLIENT_HEADERS) expect(allowed).toContain(header);
    // Never credentials: auth is a bearer header, and `*` with credentials is refused anyway.
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('lets a page on another origin read answers, their request id and upload errors', async () => {
    const res = await fetch(app.url, {
      method: 'POST',
      headers: {
        origin: 'http://localhost:5173',
        'content-type': 'application/json',
        authorization: `Bearer ${ann.token}`,
      },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toContain('x-request-id');
    const upload = await fetch(`${app.origin}/attachments`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(upload.status).toBe(204);
    expect(upload.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('CORS_ORIGINS set to a list (as in production)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp('pglite', {
      env: { CORS_ORIGINS: 'https://chat.example.com,http://localhost:5173' },
    });
  });
  afterAll(async () => app?.close());

  const preflight = (origin: string) =>
    fetch(app.url, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,authorization',
      },
    });

  it('allows exactly the listed origins, echoing the one that asked', async () => {
    const listed = await preflight('https://chat.example.com');
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://chat.example.com');
    expect(listed.headers.get('vary')).toMatch(/origin/i);
    const other = await preflight('https://chat.example.com.evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const answer = await fetch(app.url, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    // The server answers (CORS is the browser's to enforce), but tells the browser not to share.
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
  });
});
