// The browser pages in a real browser: the demo chat in two headless Chromium pages (separate
// profiles), GraphiQL and GraphQL Playground, against a server process on the embedded default,
// as `npm start` runs it. Every wait is on the page's DOM state; screenshots are saved to
// test-artifacts/browser/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { okAt, registerAt, startServerProcess, type ServerProcess } from '../support/process.js';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;

const chromiumPath = inject('chromiumPath');
const ARTIFACTS = path.resolve('test-artifacts', 'browser');

/** Selector of an element by its data-testid (and optional attribute values). */
const id = (testId: string, attrs: Record<string, string> = {}) =>
  `[data-testid="${testId}"]` +
  Object.entries(attrs)
    .map(([k, v]) => `[${k}="${v}"]`)
    .join('');

describe.skipIf(!chromiumPath)('the demo chat page in Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;
  let dataDir: string;
  /** Every URL the pages requested: all of them must be the server's (no CDN). */
  const requested = new Set<string>();

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-browser-'));
    mkdirSync(ARTIFACTS, { recursive: true });
    [server, browser] = await Promise.all([
      startServerProcess({
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        // OFFLINE shows a second after the last tab closed (the default waits 5 s).
        PRESENCE_GRACE_MS: '1000',
        PRESENCE_TTL_MS: '3000',
      }),
      launchChromium(chromiumPath),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  let pages = 0;
  const origin = () => `http://127.0.0.1:${server.port}`;

  async function openPage(): Promise<{ context: BrowserContext; page: Page }> {
    // A context of its own: its own localStorage, so its own signed-in user.
    const context = await browser.newContext({ viewport: { width: 1000, height: 640 } });
    context.on('request', (r) => requested.add(r.url()));
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const name = `page-${++pages}`;
    const log: string[] = [];
    page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
    // What the page showed and logged when a step failed, next to the other artefacts.
    onTestFailed(async () => {
      if (page.isClosed()) return;
      await page.screenshot({ path: path.join(ARTIFACTS, `failed-${name}.png`) });
      console.error(`[${name}] ${page.url()}\n${log.join('\n')}\n${await page.content()}`);
    });
    await page.goto(`${origin()}/`);
    return { context, page };
  }

  async function register(page: Page, phone: string, name: string): Promise<void> {
    await page.fill(id('auth-phone'), phone);
    await page.fill(id('auth-name'), name);
    await page.fill(id('auth-password'), `password-${name}`);
    await page.click(id('auth-submit'));
    await page.locator(id('me'), { hasText: name }).waitFor();
  }

  async function send(page: Page, text: string): Promise<void> {
    await page.fill(id('composer'), text);
    await page.click(id('send'));
    await page.locator(id('message-body'), { hasText: text }).waitFor();
  }

  const conversationWith = (page: Page, name: string) =>
    page.locator(id('conversation', { 'data-title': name }));

  it('two people register, chat live, see typing, read ticks and presence, and a reload restores history and unread counts', async () => {
    const suffix = String(Date.now()).slice(-7);
    const ann = await openPage();
    const bob = await openPage();
    await register(ann.page, `+1 555 3${suffix}`, 'Ann');
    await register(bob.page, `+1 555 4${suffix}`, 'Bob');

    // Ann opens a chat by Bob's phone (formatted differently) and sees him online.
    await ann.page.fill(id('new-chat-phone'), `+1-555-4${suffix}`);
    await ann.page.click(id('new-chat-submit'));
    await ann.page.locator(id('chat-title'), { hasText: 'Bob' }).waitFor();
    await conversationWith(ann.page, 'Bob')
      .locator(id('presence-dot', { 'data-status': 'ONLINE' }))
      .waitFor();

    // Her message appears live in Bob's list, unread.
    await send(ann.page, 'Hello Bob');
    const annOnBob = conversationWith(bob.page, 'Ann');
    await annOnBob.locator(id('unread-badge'), { hasText: '1' }).waitFor();

    // Bob opens it: the message is there, the badge goes, and Ann's tick turns to read.
    await annOnBob.click();
    await bob.page.locator(id('message-body'), { hasText: 'Hello Bob' }).waitFor();
    await annOnBob.locator(id('unread-badge')).waitFor({ state: 'detached' });
    await ann.page.locator(id('ticks', { 'data-status': 'READ' })).waitFor();

    // Bob types: Ann sees it; he sends: his message appears live and the indicator goes.
    await bob.page.fill(id('composer'), 'Hi Ann');
    await ann.page.locator(id('typing-indicator'), { hasText: 'Bob is typing' }).waitFor();
    await bob.page.click(id('send'));
    await ann.page.locator(id('message-body'), { hasText: 'Hi Ann' }).waitFor();
    await ann.page.locator(id('typing-indicator')).waitFor({ state: 'hidden' });

    // Bob reloads: still signed in, no chat open. Ann writes twice more: two unread, live.
    await bob.page.reload();
    await annOnBob.waitFor();
    await send(ann.page, 'Are you there?');
    await send(ann.page, 'Lunch at noon?');
    await annOnBob.locator(id('unread-badge'), { hasText: '2' }).waitFor();

    // Another reload restores the count from the server, and the chat its whole history.
    await bob.page.reload();
    await annOnBob.locator(id('unread-badge'), { hasText: '2' }).waitFor();
    await annOnBob.click();
    await bob.page.locator(id('message-body'), { hasText: 'Lunch at noon?' }).waitFor();
    expect(await bob.page.locator(id('message-body')).allTextContents()).toEqual([
      'Hello Bob',
      'Hi Ann',
      'Are you there?',
      'Lunch at noon?',
    ]);
    await ann.page
      .locator(id('ticks', { 'data-status': 'READ' }))
      .nth(2)
      .waitFor();

    // Someone else writes to Ann: a new conversation appears in her list, unread.
    const carol = await registerAt(server, 'Carol');
    const toAnn = { toPhone: `+15553${suffix}` };
    await okAt(
      server,
      SEND,
      { input: { ...toAnn, body: 'Are we still on for Friday?' } },
      carol.token,
    );
    const carolOnAnn = conversationWith(ann.page, 'Carol');
    await carolOnAnn.locator(id('unread-badge'), { hasText: '1' }).waitFor();

    // The screenshots (for the README too): Bob typing, as Ann sees it.
    await bob.page.fill(id('composer'), 'Noon works');
    await ann.page.locator(id('typing-indicator'), { hasText: 'Bob is typing' }).waitFor();
    await ann.page.screenshot({ path: path.join(ARTIFACTS, 'ann.png') });
    await bob.page.screenshot({ path: path.join(ARTIFACTS, 'bob.png') });

    // Bob closes his page: Ann sees him go offline.
    await bob.context.close();
    await conversationWith(ann.page, 'Bob')
      .locator(id('presence-dot', { 'data-status': 'OFFLINE' }))
      .waitFor();

    // A long history: the newest page first, older ones when scrolled to the top.
    for (let i = 1; i <= 40; i++) {
      await okAt(server, SEND, { input: { ...toAnn, body: `note ${i}` } }, carol.token);
    }
    await carolOnAnn.click();
    await ann.page.locator(id('message-body'), { hasText: 'note 40' }).waitFor();
    expect(await ann.page.locator(id('message')).count()).toBe(30);
    await ann.page.locator(id('messages')).evaluate((el) => el.scrollTo({ top: 0 }));
    await ann.page.locator(id('message-body'), { hasText: 'Friday' }).waitFor();
    expect(await ann.page.locator(id('message')).count()).toBe(41);
    await ann.page.locator(id('load-older')).waitFor({ state: 'detached' });
    await ann.context.close();

    const foreign = [...requested].filter((url) => !url.startsWith(origin()));
    expect(foreign).toEqual([]);
  });

  it("two people find a message by search, react to it, see each other's reactions live and reply", async () => {
    const suffix = String(Date.now()).slice(-7);
    const lea = await openPage();
    const max = await openPage();
    await register(lea.page, `+1 555 5${suffix}`, 'Lea');
    await register(max.page, `+1 555 6${suffix}`, 'Max');
    await lea.page.fill(id('new-chat-phone'), `+1 555 6${suffix}`);
    await lea.page.click(id('new-chat-submit'));
    await send(lea.page, 'Picnic at the lighthouse on Saturday?');

    // Max searches a word of it: the result names the conversation and marks the match; it
    // opens that conversation.
    await max.page.fill(id('search-input'), 'lighthouse');
    await max.page.press(id('search-input'), 'Enter');
    const result = max.page.locator(id('search-result'), { hasText: 'Lea' });
    await expect(result.locator('mark').textContent()).resolves.toBe('lighthouse');
    await result.click();
    await max.page.locator(id('chat-title'), { hasText: 'Lea' }).waitFor();
    await max.page.locator(id('messages', { 'data-loaded': 'true' })).waitFor();
    const picnicOn = (page: Page) =>
      page.locator(id('message'), { hasText: 'Picnic at the lighthouse' });

    // Lea reacts with 👍 from the picker: Max sees the chip appear, not highlighted for him.
    await picnicOn(lea.page).locator(id('react-button')).click();
    await picnicOn(lea.page)
      .locator(id('react-option', { 'data-emoji': '👍' }))
      .click();
    await picnicOn(lea.page)
      .locator(id('reaction-chip', { 'data-emoji': '👍', 'data-count': '1', 'data-mine': 'true' }))
      .waitFor();
    const maxChip = picnicOn(max.page).locator(id('reaction-chip', { 'data-emoji': '👍' }));
    await picnicOn(max.page)
      .locator(id('reaction-chip', { 'data-emoji': '👍', 'data-count': '1', 'data-mine': 'false' }))
      .waitFor();

    // Max clicks the chip to add his: 2 on both pages, live; clicked again, it is back to 1.
    await maxChip.click();
    await picnicOn(max.page)
      .locator(id('reaction-chip', { 'data-emoji': '👍', 'data-count': '2', 'data-mine': 'true' }))
      .waitFor();
    await picnicOn(lea.page)
      .locator(id('reaction-chip', { 'data-emoji': '👍', 'data-count': '2', 'data-mine': 'true' }))
      .waitFor();
    await maxChip.click();
    await picnicOn(lea.page)
      .locator(id('reaction-chip', { 'data-emoji': '👍', 'data-count': '1' }))
      .waitFor();

    // Max replies to it: the composer says to whom (cancellable); Lea sees the reply live with the
    // quote above it, and her message counts it.
    await picnicOn(max.page).locator(id('reply-button')).click();
    await max.page.locator(id('replying-to'), { hasText: 'Replying to Lea: Picnic' }).waitFor();
    await max.page.click(id('cancel-reply'));
    await max.page.locator(id('replying-to')).waitFor({ state: 'detached' });
    await picnicOn(max.page).locator(id('reply-button')).click();
    await send(max.page, 'Yes! I will bring the cake');
    await max.page.locator(id('replying-to')).waitFor({ state: 'detached' });
    const replyOnLea = lea.page.locator(id('message'), { hasText: 'I will bring the cake' });
    await replyOnLea.locator(id('reply-quote'), { hasText: 'Picnic at the lighthouse' }).waitFor();
    await picnicOn(lea.page).locator(id('reply-count'), { hasText: '1 reply' }).waitFor();
    await picnicOn(max.page).locator(id('reply-count'), { hasText: '1 reply' }).waitFor();
    await lea.page.screenshot({ path: path.join(ARTIFACTS, 'reactions-replies.png') });

    // Lea deletes her message (through the API: the page has no delete): the quote above the
    // reply turns into "deleted message" live.
    const token = (await lea.page.evaluate<string | null>("localStorage.getItem('parley.token')"))!;
    const conversationId = await lea.page
      .locator(id('chat-view'))
      .getAttribute('data-conversation-id');
    const { messages } = await okAt<{ messages: { edges: { node: { id: string } }[] } }>(
      server,
      `query($id: ID!) { messages(conversationId: $id, first: 1) { edges { node { id } } } }`,
      { id: conversationId },
      token,
    );
    await okAt(
      server,
      `mutation($id: ID!) { deleteMessage(messageId: $id) { id } }`,
      { id: messages.edges[0]!.node.id },
      token,
    );
    const replyOnMax = max.page.locator(id('message'), { hasText: 'I will bring the cake' });
    await replyOnMax.locator(id('reply-quote'), { hasText: 'deleted message' }).waitFor();
    await Promise.all([lea.context.close(), max.context.close()]);
  });

  it('GraphiQL at /graphql runs a query and a subscription with the pasted token', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 700 } });
    context.on('request', (r) => requested.add(r.url()));
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    onTestFailed(async () => {
      if (page.isClosed()) return;
      await page.screenshot({ path: path.join(ARTIFACTS, 'failed-graphiql.png') });
      console.error(await page.locator('.graphiql-response').textContent());
    });
    const grace = await registerAt(server, 'Grace');
    await page.goto(server.url);
    await page.locator('.graphiql-container').waitFor();
    await page.fill(id('graphiql-token'), grace.token);
    // Run only once the page has put the pasted token in use (a fresh fetcher and WebSocket)
    // and GraphiQL's editors, which it loads after the page, are in place: until then its Run
    // button does nothing. Click until the query goes out.
    await page.locator('main[data-token-applied="true"]').waitFor();
    await page.locator('.graphiql-response .CodeMirror').waitFor();
    for (let i = 1; ; i++) {
      const sent = page.waitForRequest(
        (r) => r.method() === 'POST' && new URL(r.url()).pathname === '/graphql',
        { timeout: 2_000 },
      );
      await page.click('.graphiql-execute-button');
      if (
        await sent.then(
          () => true,
          () => false,
        )
      )
        break;
      expect(i, 'Run never sent the query').toBeLessThan(5);
    }
    await page.locator('.graphiql-response', { hasText: '"displayName": "Grace"' }).waitFor();

    // A subscription, over graphql-ws with the same token: messages to Grace appear as they come.
    await page
      .locator('.graphiql-query-editor .CodeMirror')
      .evaluate(
        (el, query) =>
          (el as unknown as { CodeMirror: { setValue(v: string): void } }).CodeMirror.setValue(
            query,
          ),
        'subscription Live { messageAdded { body sender { displayName } } }',
      );
    // GraphiQL has taken the new document in once its tab is named after it.
    await page.locator('.graphiql-tab', { hasText: 'Live' }).waitFor();
    await page.click('.graphiql-execute-button');
    const hank = await registerAt(server, 'Hank');
    // The stream starts "now": send until one shows that it is live.
    for (let i = 1; ; i++) {
      await okAt(server, SEND, { input: { toPhone: grace.phone, body: `ping ${i}` } }, hank.token);
      const shown = page.locator('.graphiql-response', { hasText: `"body": "ping ${i}"` });
      const live = await shown.waitFor({ timeout: 1_000 }).then(
        () => true,
        () => false,
      );
      if (live) break;
      expect(i, 'the subscription never showed a message').toBeLessThan(10);
    }
    await page.screenshot({ path: path.join(ARTIFACTS, 'graphiql.png') });
    await context.close();

    const foreign = [...requested].filter((url) => !url.startsWith(origin()));
    expect(foreign).toEqual([]);
  });

  it('GraphQL Playground at /playground loads the schema, runs a query with an Authorization header and receives a subscription', async () => {
    const SENT = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { conversationId cursor } }`;
    const [ivy, jack] = await Promise.all([registerAt(server, 'Ivy'), registerAt(server, 'Jack')]);
    const { sendMessage: first } = await okAt<{
      sendMessage: { conversationId: string; cursor: string };
    }>(server, SENT, { input: { toPhone: ivy.phone, body: 'first' } }, jack.token);
    const conversationId = first.conversationId;
    await okAt(server, SEND, { input: { conversationId, body: 'missed while away' } }, jack.token);

    const context = await browser.newContext({ viewport: { width: 1200, height: 700 } });
    context.on('request', (r) => requested.add(r.url()));
    const page = await context.newPage();
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    page.setDefaultTimeout(15_000);
    const log: string[] = [];
    page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
    onTestFailed(async () => {
      if (page.isClosed()) return;
      await page.screenshot({ path: path.join(ARTIFACTS, 'failed-playground.png') });
      console.error(log.join('\n'));
    });
    /** Playground's editors are CodeMirror 5: query, then variables or headers, then results. */
    const editor = (n: number) => page.locator('.CodeMirror').nth(n);
    const setEditor = (n: number, value: string) =>
      editor(n).evaluate(
        (el, v) =>
          (el as unknown as { CodeMirror: { setValue(v: string): void } }).CodeMirror.setValue(v),
        value,
      );
    const result = (text: string) => page.locator('.CodeMirror', { hasText: text });
    /** Clicks Run until Playground sends the document (its editor hands it on asynchronously). */
    async function run<T>(sent: () => Promise<T>): Promise<T> {
      for (let i = 1; ; i++) {
        const going = sent();
        await page.click('[title="Execute Query (Ctrl-Enter)"]');
        const outcome = await going.then(
          (value) => ({ value }),
          () => null,
        );
        if (outcome) return outcome.value;
        expect(i, 'Run never sent the document').toBeLessThan(5);
      }
    }

    await page.goto(`${origin()}/playground`);
    // The schema loads (by introspection over HTTP): its docs list the API's operations.
    await page.getByText('Docs', { exact: true }).click();
    await page.getByText('startDirectConversation').waitFor();
    await page.getByText('Docs', { exact: true }).click();

    // The HTTP headers pane signs the query in.
    await page.getByText('HTTP Headers').click();
    await setEditor(1, JSON.stringify({ Authorization: `Bearer ${ivy.token}` }));
    await page.getByText('HTTP Headers (1)').waitFor();
    await setEditor(0, 'query WhoAmI { me { displayName phone } }');
    const query = await run(() =>
      page.waitForRequest((r) => r.method() === 'POST' && (r.postData() ?? '').includes('WhoAmI'), {
        timeout: 2_000,
      }),
    );
    expect(query.headers()['authorization']).toBe(`Bearer ${ivy.token}`);
    await result('"displayName": "Ivy"').waitFor();

    // A subscription, over WebSocket with the same header: it replays the message sent before it
    // started (from the cursor), then shows one sent while it runs.
    await setEditor(
      0,
      `subscription Live { messageAdded(conversationId: "${conversationId}", after: "${first.cursor}") { body sender { displayName } } }`,
    );
    const socket = await run(() => page.waitForEvent('websocket', { timeout: 2_000 }));
    expect(socket.url()).toBe(`ws://127.0.0.1:${server.port}/graphql`);
    await result('"body": "missed while away"').waitFor();
    await okAt(server, SEND, { input: { conversationId, body: 'live from Jack' } }, jack.token);
    await result('"body": "live from Jack"').waitFor();
    await expect(result('"displayName": "Jack"').count()).resolves.toBe(2);
    await page.screenshot({ path: path.join(ARTIFACTS, 'playground.png') });
    await context.close();

    const foreign = [...requested, ...sockets].filter(
      (url) => new URL(url).host !== `127.0.0.1:${server.port}`,
    );
    expect(foreign).toEqual([]);
  });

  it('a page on another origin calls the API with a bearer token (CORS), by POST and by GET', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const kim = await registerAt(server, 'Kim');
    // localhost and 127.0.0.1 are different origins to the browser: the page is cross-origin.
    await page.goto(`http://localhost:${server.port}/healthz`);
    const answers = await page.evaluate(
      async ({ api, token }) => {
        const query = '{ me { displayName } }';
        const headers = { authorization: `Bearer ${token}` };
        const post = await fetch(api, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
        });
        // As urql sends short queries by default.
        const get = await fetch(`${api}?query=${encodeURIComponent(query)}`, { headers });
        return [await post.json(), await get.json(), get.headers.get('x-request-id')];
      },
      { api: `${origin()}/graphql`, token: kim.token },
    );
    expect(answers[0]).toEqual({ data: { me: { displayName: 'Kim' } } });
    expect(answers[1]).toEqual({ data: { me: { displayName: 'Kim' } } });
    expect(answers[2]).toMatch(/.+/);
    await context.close();
  });
});
