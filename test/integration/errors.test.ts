// What a client sees when things go wrong: a GraphQL-shaped error with a code, never a stack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, registerUser, startApp, type TestApp } from '../support/app.js';

describe('request errors', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp('pglite');
  });
  afterAll(async () => app?.close());

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  it('answers a malformed JSON body with BAD_REQUEST, not an HTML page or a stack', async () => {
    const res = await post('{"query": ');
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text).errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(text).not.toMatch(/at .+\.(js|ts):\d+|<html/i);
  });

  it('refuses bodies over 1 MiB and batched requests', async () => {
    const big = await post(
      JSON.stringify({ query: `{ me { id } }`, variables: { pad: 'x'.repeat(1_100_000) } }),
    );
    expect(big.status).toBe(413);
    const bigBody = (await big.json()) as { errors: { message: string }[] };
    expect(bigBody.errors[0]!.message).toMatch(/larger than/);
    const batch = await post(
      JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { id } }' }]),
    );
    expect(batch.status).toBe(400);
  });

  it('refuses requests a page could send cross-site without a preflight (CSRF prevention)', async () => {
    // A GET without a token: not executed (`__typename` needs no sign-in), answered as what it is
    // to a signed-out client.
    const get = await fetch(`${app.url}?query=${encodeURIComponent('{ __typename }')}`);
    const answer = (await get.json()) as {
      data?: unknown;
      errors: { extensions: { code: string } }[];
    };
    expect(answer.data).toBeUndefined();
    expect(answer.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
    // A form-like POST.
    const post = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(post.status).toBe(400);
    expect(await post.text()).toMatch(/CSRF/);
  });

  it('rejects wrongly typed variables with BAD_USER_INPUT', async () => {
    const user = await registerUser(app);
    const res = await app.gql(
      `query($n: Int) { conversations(first: $n) { edges { cursor } } }`,
      { n: 'ten' },
      user.token,
    );
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
  });

  it('masks an unexpected failure as INTERNAL_SERVER_ERROR with an id, leaking nothing', async () => {
    const user = await registerUser(app);
    await app.database.close(); // the database goes away under the server
    const res = await app.gql(`{ conversations(first: 5) { edges { cursor } } }`, {}, user.token);
    expect(errorCode(res)).toBe('INTERNAL_SERVER_ERROR');
    const error = res.errors![0]!;
    expect(error.extensions?.['errorId']).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.message).toContain(String(error.extensions?.['errorId']));
    expect(JSON.stringify(res)).not.toMatch(/stack|select|conversation_members|PGlite|\.ts:\d+/i);
  });
});
