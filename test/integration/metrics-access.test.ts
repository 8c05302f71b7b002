// Who may read /metrics (issue 14): it tells anyone who asks about traffic and load, so in
// production the public port does not serve it unless a token guards it (METRICS_TOKEN) or it
// has a port of its own (METRICS_PORT); outside production it stays open for convenience.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { registerUser, startApp, type TestApp } from '../support/app.js';
import { getFreePort } from '../support/services.js';

const apps: TestApp[] = [];
afterAll(async () => {
  await Promise.allSettled(apps.map((a) => a.close()));
});

async function app(env: Record<string, string>): Promise<TestApp> {
  const started = await startApp('pglite', { env });
  apps.push(started);
  return started;
}

const tokenFor = async (a: TestApp) => (await registerUser(a)).token;

const scrape = (url: string, token?: string) =>
  fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});

const PRODUCTION = {
  NODE_ENV: 'production',
  JWT_SECRET: randomBytes(32).toString('hex'),
};

describe('/metrics', () => {
  it('is open outside production when neither setting is given', async () => {
    const a = await app({});
    const res = await scrape(`${a.origin}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/parley_graphql_requests_total/);
  });

  it('is not served on the public port in production when neither setting is given', async () => {
    const a = await app(PRODUCTION);
    expect((await scrape(`${a.origin}/metrics`)).status).toBe(404);
    expect((await fetch(`${a.origin}/healthz`)).status).toBe(200);
  });

  it('with METRICS_TOKEN answers only the bearer of that token', async () => {
    const token = randomBytes(24).toString('hex');
    const a = await app({ ...PRODUCTION, METRICS_TOKEN: token });
    const without = await scrape(`${a.origin}/metrics`);
    expect(without.status).toBe(401);
    expect(without.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await scrape(`${a.origin}/metrics`, `${token}x`)).status).toBe(401);
    expect((await scrape(`${a.origin}/metrics`, token.slice(1))).status).toBe(401);
    const res = await scrape(`${a.origin}/metrics`, token);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/parley_outbox_depth/);
  });

  it('with METRICS_PORT is served there only, and with METRICS_TOKEN too it needs the token there', async () => {
    const metricsPort = await getFreePort();
    const a = await app({ METRICS_PORT: String(metricsPort) });
    // Even outside production: a port of its own means not on the public one.
    expect((await scrape(`${a.origin}/metrics`)).status).toBe(404);
    const res = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/parley_messages_sent_total/);
    // Nothing but /metrics on that port.
    expect((await fetch(`http://127.0.0.1:${metricsPort}/graphql`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(404);

    const guardedPort = await getFreePort();
    const token = randomBytes(24).toString('hex');
    const b = await app({ ...PRODUCTION, METRICS_PORT: String(guardedPort), METRICS_TOKEN: token });
    expect((await scrape(`${b.origin}/metrics`, token)).status).toBe(404);
    expect((await scrape(`http://127.0.0.1:${guardedPort}/metrics`)).status).toBe(401);
    expect((await scrape(`http://127.0.0.1:${guardedPort}/metrics`, token)).status).toBe(200);

    // Closing the app frees its metrics port.
    await a.close();
    apps.splice(apps.indexOf(a), 1);
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
  });

  it('counts a refused request under its contract code, not as a server error', async () => {
    const a = await app({});
    const res = await a.gql(`mutation { blockUser(userId: "nobody") }`, {}, await tokenFor(a));
    expect(res.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const text = await (await scrape(`${a.origin}/metrics`)).text();
    expect(text).toMatch(
      /parley_graphql_requests_total\{field="blockUser",kind="mutation",outcome="NOT_FOUND"\} 1/,
    );
    expect(text).not.toMatch(/field="blockUser",kind="mutation",outcome="INTERNAL_SERVER_ERROR"/);
  });
});
