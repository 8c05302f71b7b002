// A client that stops reading: the server keeps a bounded buffer per subscription, sheds typing
// first, and disconnects a client that falls behind on messages (1013) so it resumes from its
// cursor rather than silently missing messages.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { topics } from '../../src/realtime/events.js';
import { ok, registerUser, startApp, type TestApp } from '../support/app.js';

interface RawClient {
  socket: WebSocket;
  frames: { type: string; id?: string; payload?: unknown }[];
  closed: Promise<number>;
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
}

async function rawClient(url: string, token: string): Promise<RawClient> {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const frames: RawClient['frames'] = [];
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  socket.on('message', (data) =>
    frames.push(JSON.parse(String(data)) as RawClient['frames'][number]),
  );
  const waitFor = async (predicate: () => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(
    JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
  );
  await waitFor(() => frames.some((f) => f.type === 'connection_ack'));
  return { socket, frames, closed, waitFor };
}

describe('a client that stops reading', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp('pglite');
  });
  afterAll(async () => app?.close());

  async function setup() {
    const [a, b] = await Promise.all([registerUser(app), registerUser(app)]);
    const sent = ok(
      await app.gql<{ sendMessage: { id: string; conversationId: string; seq: number } }>(
        `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id conversationId seq } }`,
        { i: { toPhone: b.phone, body: 'hi' } },
        a.token,
      ),
    ).sendMessage;
    return { a, b, id: sent.conversationId, message: sent };
  }

  it('is disconnected with 1013 when it falls behind on messages, so it can resume', async () => {
    const { a, b, id, message } = await setup();
    const client = await rawClient(app.wsUrl, b.token);
    client.socket.send(
      JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: {
          query: `subscription($id: ID) { messageUpdated(conversationId: $id) { seq body } }`,
          variables: { id },
        },
      }),
    );
    // Live once a real edit comes through.
    const EDIT = `mutation($m: ID!) { editMessage(input: { messageId: $m, body: "edited" }) { id } }`;
    const probe = setInterval(() => void app.gql(EDIT, { m: message.id }, a.token), 100);
    await client
      .waitFor(() => client.frames.some((f) => f.type === 'next'))
      .finally(() => clearInterval(probe));
    // Changes follow the conversation's change positions: continue from the newest.
    await new Promise((r) => setTimeout(r, 300)); // an edit of the probe still under way
    const [{ n }] = await app.database.db
      .execute<{ n: number }>(
        sql`select last_change_seq as n from conversations where id = ${id}::uuid`,
      )
      .then((r) => (Array.isArray(r) ? r : (r as unknown as { rows: { n: number }[] }).rows));
    client.socket.pause(); // stop reading
    const body = 'x'.repeat(4_000);
    for (let i = 0; i < 4_000; i++) {
      await app.bus.publish(topics.messages(id), {
        type: 'messageUpdated',
        message: {
          conversationId: id,
          seq: message.seq,
          senderId: a.id,
          body,
          clientMessageId: null,
          createdAt: new Date().toISOString(),
          editedAt: new Date(1_000_000 + i).toISOString(),
          deletedAt: null,
          attachmentCount: 0,
          changeSeq: n + 1 + i,
          sender: { id: a.id, phone: a.phone, displayName: a.displayName },
          memberVersion: 0,
        },
      });
    }
    client.socket.resume();
    expect(await client.closed).toBe(1013);
    // Far fewer than published reached it before the cut: the rest waits for the client to resume.
    expect(client.frames.filter((f) => f.type === 'next').length).toBeLessThan(4_000);
  });

  it('sheds typing events instead of disconnecting', async () => {
    // Aliases make each frame a few KB, so the socket really backs up.
    const inflate = Array.from(
      { length: 18 },
      (_, i) => `u${i}: user { id phone displayName }`,
    ).join(' ');
    const { a, b, id } = await setup();
    const client = await rawClient(app.wsUrl, b.token);
    client.socket.send(
      JSON.stringify({
        id: 't',
        type: 'subscribe',
        payload: {
          query: `subscription($id: ID!) { typingChanged(conversationId: $id) { isTyping ${inflate} } }`,
          variables: { id },
        },
      }),
    );
    const SET = `mutation($id: ID!) { setTyping(conversationId: $id, isTyping: true) }`;
    const probe = setInterval(() => void app.gql(SET, { id }, a.token), 100);
    await client
      .waitFor(() => client.frames.some((f) => f.type === 'next'))
      .finally(() => clearInterval(probe));
    client.socket.pause();
    const shownBefore = client.frames.filter((f) => f.type === 'next').length;
    const events = 3_000;
    for (let i = 0; i < events; i++) {
      // Each a start and a stop, so every one would be shown.
      await app.bus.publish(topics.activity(id), {
        type: 'typing',
        conversationId: id,
        userId: a.id,
        isTyping: i % 2 === 0,
        ttlMs: 5_000,
      });
    }
    client.socket.resume();
    // The server may still be working through the events (they came faster than it executes
    // them): what it kept starts arriving, then read until nothing more comes. The socket
    // stays open, and what arrived is a bounded part.
    await client.waitFor(() => client.frames.filter((f) => f.type === 'next').length > shownBefore);
    let count = -1;
    while (count !== client.frames.length) {
      count = client.frames.length;
      await new Promise((r) => setTimeout(r, 400));
    }
    const outcome = await Promise.race([client.closed, Promise.resolve('open' as const)]);
    expect(outcome).toBe('open');
    const delivered = client.frames.filter((f) => f.type === 'next').length - shownBefore;
    // Some arrived (the newest kept), far from all.
    expect(delivered).toBeGreaterThan(10);
    expect(delivered).toBeLessThan(events / 2);
    client.socket.close();
  });
});
