// Fan-out executes a message event once for every subscriber that asked the same thing.
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, registerUser, startApp, type TestApp } from '../support/app.js';
import { connect, subscribe, type Received } from '../support/ws.js';

describe('fan-out to many subscribers of one conversation', () => {
  let app: TestApp;
  const clients: Client[] = [];
  beforeAll(async () => {
    // The outbox drainer (a timer taking rows a crashed sender left) would add its own statements
    // to the count whenever a tick falls inside it; on a slow machine it also takes the counted
    // row itself. It is not per-event cost: keep it out of these cases.
    app = await startApp('pglite', { env: { OUTBOX_DRAIN_INTERVAL_MS: '600000' } });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await app?.close();
  });

  it('hands an event to many subscribers with no database statement (sender, status, membership)', async () => {
    const members = await Promise.all(
      Array.from({ length: 25 }, (_, i) => registerUser(app, `M${i}`)),
    );
    const [owner, ...rest] = members;
    const id = ok(
      await app.gql<{ createGroupConversation: { id: string } }>(
        `mutation($i: CreateGroupConversationInput!) { createGroupConversation(input: $i) { id } }`,
        { i: { title: 'Fan-out', memberPhones: rest.map((m) => m.phone) } },
        owner!.token,
      ),
    ).createGroupConversation.id;
    const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq } }`;
    ok(await app.gql(SEND, { i: { conversationId: id, body: 'first' } }, owner!.token));
    const after = Buffer.from('m1:1').toString('base64url');
    const query = `subscription($id: ID, $after: String) {
      messageAdded(conversationId: $id, after: $after) { id seq body status sender { id displayName } } }`;
    const subs: Received<{ seq: number; sender: { displayName: string } }>[] = rest.map((m) => {
      const c = connect(app.wsUrl, m.token);
      clients.push(c);
      return subscribe(c, query, { id, after });
    });
    // Live: every subscriber has received a message sent after it subscribed.
    ok(await app.gql(SEND, { i: { conversationId: id, body: 'warm-up' } }, owner!.token));
    await Promise.all(subs.map((s) => s.until((x) => x.length >= 1)));
    // That one may have been replayed; this one comes live to all (they are past seq 2).
    ok(await app.gql(SEND, { i: { conversationId: id, body: 'live' } }, owner!.token));
    await Promise.all(subs.map((s) => s.until((x) => x.length >= 2)));

    const before = app.statements.length;
    ok(await app.gql(SEND, { i: { conversationId: id, body: 'counted' } }, owner!.token));
    const received = await Promise.all(subs.map((s) => s.until((x) => x.length >= 3)));
    expect(
      received.every((items) => items[2]!.seq === 4 && items[2]!.sender.displayName === 'M0'),
    ).toBe(true);
    const during = app.statements.slice(before);
    // Handing the event to 24 subscribers costs no statement: the event carries the sender, the
    // instance knows the members (authorization and status). What remains is the send itself,
    // clearing its outbox row and the batched record of deliveries.
    const perEvent = during.filter(
      (q) =>
        !/parley_send_(message|batch)|delete from "outbox"|last_delivered_seq|set_config|^(begin|commit)/i.test(
          q.trim(),
        ),
    );
    expect(perEvent).toEqual([]);
  });

  it('one socket with two subscriptions of different shapes, beside others sharing a frame, gets each its own', async () => {
    const [owner, a, b] = await Promise.all([0, 1, 2].map((i) => registerUser(app, `S${i}`)));
    const id = ok(
      await app.gql<{ createGroupConversation: { id: string } }>(
        `mutation($i: CreateGroupConversationInput!) { createGroupConversation(input: $i) { id } }`,
        { i: { title: 'Shapes', memberPhones: [a!.phone, b!.phone] } },
        owner!.token,
      ),
    ).createGroupConversation.id;
    const full = `subscription($id: ID) { messageAdded(conversationId: $id) { seq body sender { displayName } } }`;
    const slim = `subscription($id: ID) { messageAdded(conversationId: $id) { seq } }`;
    const ca = connect(app.wsUrl, a!.token);
    const cb = connect(app.wsUrl, b!.token);
    clients.push(ca, cb);
    const aFull = subscribe<Record<string, unknown>>(ca, full, { id });
    const aSlim = subscribe<Record<string, unknown>>(ca, slim, { id });
    const bFull = subscribe<Record<string, unknown>>(cb, full, { id });
    const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq } }`;
    // Until all three are live (a message sent before one subscribed is not replayed to it).
    for (let n = 1; ; n++) {
      ok(await app.gql(SEND, { i: { conversationId: id, body: `m${n}` } }, owner!.token));
      await new Promise((r) => setTimeout(r, 50));
      if ([aFull, aSlim, bFull].every((s) => s.items.length > 0)) break;
    }
    const { seq } = ok(
      await app.gql<{ sendMessage: { seq: number } }>(
        SEND,
        { i: { conversationId: id, body: 'shaped' } },
        owner!.token,
      ),
    ).sendMessage;
    const [fa, sa, fb] = await Promise.all(
      [aFull, aSlim, bFull].map(async (sub) =>
        (await sub.until((x) => x.some((m) => m['seq'] === seq))).find((m) => m['seq'] === seq),
      ),
    );
    expect(fa).toEqual({ seq, body: 'shaped', sender: { displayName: 'S0' } });
    expect(fb).toEqual(fa);
    expect(sa).toEqual({ seq });
  });
});
