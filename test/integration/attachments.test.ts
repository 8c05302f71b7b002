// Attachments end to end over HTTP: upload (type by content, size limit while streaming),
// sendMessage with attachmentIds, downloads for members only (signed URLs, ranges, caching
// headers), thumbnails, metadata stripping, and the sweep of uploads never sent.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  backends,
  errorCode,
  ok,
  registerUser,
  startApp,
  type TestApp,
  type TestUser,
} from '../support/app.js';
import {
  detailedPng,
  download,
  filesUnder,
  jpegWithExif,
  upload,
  uploadOk,
  type Uploaded,
} from '../support/attachments.js';
import { connect, subscribe } from '../support/ws.js';
import { attachments } from '../../src/db/schema.js';
import { removeDiscardedBlobs } from '../../src/domain/attachment-sweep.js';
import { createUrlSigner } from '../../src/domain/attachment-urls.js';
import { acceptUpload } from '../../src/domain/attachments.js';
import type { BlobStore } from '../../src/storage/blob-store.js';
import { createLocalBlobStore } from '../../src/storage/local-store.js';

const ATTACHMENT = 'id mimeType size width height filename url thumbnailUrl';
const SEND = `mutation($input: SendMessageInput!) {
  sendMessage(input: $input) { id seq conversationId body attachments { ${ATTACHMENT} } } }`;
const PAGE = `query($id: ID!) { messages(conversationId: $id, last: 50) {
  edges { node { seq body attachments { ${ATTACHMENT} } } } } }`;

interface SentAttachment extends Uploaded {
  url: string;
  thumbnailUrl: string | null;
}
interface Sent {
  sendMessage: {
    id: string;
    seq: number;
    conversationId: string;
    body: string;
    attachments: SentAttachment[];
  };
}

const png = (width = 64, height = 48) =>
  sharp({ create: { width, height, channels: 4, background: { r: 10, g: 120, b: 200, alpha: 1 } } })
    .png()
    .toBuffer();
// The first bytes of a Linux executable and of a Windows one.
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(120)]);
const MZ = Buffer.concat([
  Buffer.from('MZ'),
  Buffer.alloc(62),
  Buffer.from('PE\0\0'),
  Buffer.alloc(64),
]);

describe.each(backends())('attachments on $name', ({ name, available }) => {
  let app: TestApp;
  beforeAll(async () => {
    if (available) app = await startApp(name);
  });
  afterAll(async () => app?.close());

  const send = async (user: TestUser, input: Record<string, unknown>) =>
    ok(await app.gql<Sent>(SEND, { input }, user.token)).sendMessage;
  const bearer = (user: TestUser) => ({ authorization: `Bearer ${user.token}` });
  const blobs = () => filesUnder(path.join(app.dataDir, 'attachments'));

  async function chat() {
    const [a, b, stranger] = await Promise.all([
      registerUser(app, 'A'),
      registerUser(app, 'B'),
      registerUser(app, 'Stranger'),
    ]);
    const first = await send(a, { toPhone: b.phone, body: 'hello' });
    return { a, b, stranger, id: first.conversationId };
  }

  it.skipIf(!available)(
    'upload, send, and a member downloads the original and the thumbnail; others get 404',
    async () => {
      const { a, b, stranger, id } = await chat();
      const bytes = await png(640, 480);
      const uploaded = await uploadOk(app.origin, a.token, {
        bytes,
        filename: 'sunset “beach”.png',
        type: 'image/png',
      });
      expect(uploaded).toMatchObject({ mimeType: 'image/png', width: 640, height: 480 });
      expect(uploaded.filename).toBe('sunset “beach”.png');

      const sent = await send(a, {
        conversationId: id,
        body: 'look',
        attachmentIds: [uploaded.id],
      });
      expect(sent.attachments).toHaveLength(1);
      const [att] = sent.attachments;
      expect(att).toMatchObject({ id: uploaded.id, size: uploaded.size, width: 640, height: 480 });
      expect(att!.url).toMatch(new RegExp(`^/attachments/${uploaded.id}\\?exp=\\d+&sig=[\\w-]+$`));
      expect(att!.thumbnailUrl).toMatch(new RegExp(`^/attachments/${uploaded.id}/thumbnail\\?`));

      // The other member, with the token in the Authorization header.
      const original = await download(`${app.origin}/attachments/${uploaded.id}`, bearer(b));
      expect(original.status).toBe(200);
      expect(original.bytes.length).toBe(uploaded.size);
      expect(original.headers.get('content-type')).toBe('image/png');
      expect(original.headers.get('content-length')).toBe(String(uploaded.size));
      expect(original.headers.get('content-disposition')).toBe(
        `inline; filename="sunset _beach_.png"; filename*=UTF-8''sunset%20%E2%80%9Cbeach%E2%80%9D.png`,
      );
      expect(original.headers.get('cache-control')).toMatch(/^private, max-age=\d+/);
      expect(original.headers.get('accept-ranges')).toBe('bytes');
      expect(original.headers.get('x-content-type-options')).toBe('nosniff');
      const pixels = await sharp(original.bytes).raw().toBuffer({ resolveWithObject: true });
      expect(pixels.info).toMatchObject({ width: 640, height: 480 });
      expect(await sharp(bytes).raw().toBuffer()).toEqual(pixels.data);

      // The signed URLs work without a header (as <img src> does).
      const viaUrl = await download(`${app.origin}${att!.url}`);
      expect(viaUrl.status).toBe(200);
      expect(viaUrl.bytes).toEqual(original.bytes);
      const thumb = await download(`${app.origin}${att!.thumbnailUrl}`);
      expect(thumb.status).toBe(200);
      expect(thumb.headers.get('content-type')).toBe('image/webp');
      expect(Number(thumb.headers.get('content-length'))).toBe(thumb.bytes.length);
      const thumbMeta = await sharp(thumb.bytes).metadata();
      expect(thumbMeta).toMatchObject({ format: 'webp', width: 320, height: 240 });
      const thumbByHeader = await download(
        `${app.origin}/attachments/${uploaded.id}/thumbnail`,
        bearer(b),
      );
      expect(thumbByHeader.bytes).toEqual(thumb.bytes);

      // A non-member gets exactly what a made-up id gets; no token at all is 401.
      for (const url of [
        `/attachments/${uploaded.id}`,
        `/attachments/${uploaded.id}/thumbnail`,
        `/attachments/${randomUUID()}`,
        `/attachments/not-an-id`,
      ]) {
        const denied = await download(`${app.origin}${url}`, bearer(stranger));
        expect(denied.status, url).toBe(404);
        expect(JSON.parse(denied.bytes.toString())).toMatchObject({ error: { code: 'NOT_FOUND' } });
      }
      expect((await download(`${app.origin}/attachments/${uploaded.id}`)).status).toBe(401);
      // A signature for another attachment, another variant, or altered, is worthless.
      const query = att!.url.split('?')[1]!;
      expect(
        (await download(`${app.origin}/attachments/${uploaded.id}/thumbnail?${query}`)).status,
      ).toBe(404);
      // One character of the signature changed (to another one: 'A' stays 'A' one time in 64).
      const altered = att!.url.replace(/sig=(.)/, (_, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
      expect(altered).not.toBe(att!.url);
      expect((await download(`${app.origin}${altered}`)).status).toBe(404);
      expect(
        (await download(`${app.origin}${att!.url.replace(/exp=\d+/, (e) => `${e}0`)}`)).status,
      ).toBe(404);

      // History shows the attachment to both members; deleting the message takes the files away.
      const page = ok(
        await app.gql<{ messages: { edges: { node: { attachments: SentAttachment[] } }[] } }>(
          PAGE,
          { id },
          b.token,
        ),
      );
      expect(page.messages.edges.map((e) => e.node.attachments.map((x) => x.id))).toEqual([
        [],
        [uploaded.id],
      ]);
      ok(
        await app.gql(
          `mutation($m: ID!) { deleteMessage(messageId: $m) { id } }`,
          { m: sent.id },
          a.token,
        ),
      );
      expect((await download(`${app.origin}/attachments/${uploaded.id}`, bearer(b))).status).toBe(
        404,
      );
      expect((await download(`${app.origin}${att!.url}`)).status).toBe(404);
      // The stored original and thumbnail are removed right away, not only hidden.
      await vi.waitFor(() => expect(blobs().filter((f) => f.includes(uploaded.id))).toEqual([]), {
        timeout: 10_000,
        interval: 50,
      });
    },
  );

  it.skipIf(!available)('serves ranges, conditional requests and HEAD', async () => {
    const { a, b, id } = await chat();
    const text = 'Ünïcode text file\n'.repeat(100);
    const uploaded = await uploadOk(app.origin, a.token, {
      bytes: Buffer.from(text),
      filename: 'notes.txt',
    });
    expect(uploaded).toMatchObject({ mimeType: 'text/plain', width: null, height: null });
    const sent = await send(a, { conversationId: id, body: '', attachmentIds: [uploaded.id] });
    expect(sent.body).toBe('');
    expect(sent.attachments[0]!.thumbnailUrl).toBeNull();
    const url = `${app.origin}/attachments/${uploaded.id}`;
    const full = await download(url, bearer(b));
    expect(full.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(full.bytes.toString()).toBe(text);
    expect((await download(`${url}/thumbnail`, bearer(b))).status).toBe(404);

    const part = await download(url, { ...bearer(b), range: 'bytes=10-29' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-29/${full.bytes.length}`);
    expect(part.headers.get('content-length')).toBe('20');
    expect(part.bytes).toEqual(full.bytes.subarray(10, 30));
    const tail = await download(url, { ...bearer(b), range: 'bytes=-5' });
    expect(tail.bytes).toEqual(full.bytes.subarray(-5));
    const beyond = await download(url, { ...bearer(b), range: `bytes=${full.bytes.length + 10}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${full.bytes.length}`);

    const etag = full.headers.get('etag')!;
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await download(url, { ...bearer(b), 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.bytes.length).toBe(0);
    // A stale If-Range gets the whole file.
    const stale = await download(url, { ...bearer(b), range: 'bytes=0-1', 'if-range': '"other"' });
    expect(stale.status).toBe(200);
    expect(stale.bytes.length).toBe(full.bytes.length);

    const head = await download(url, bearer(b), 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(full.bytes.length));
    expect(head.bytes.length).toBe(0);
  });

  it.skipIf(!available)(
    'strips EXIF from what is served, applying the orientation first',
    async () => {
      const { a, b, id } = await chat();
      const marker = `secret-${randomUUID()}`;
      const jpeg = await jpegWithExif(300, 100, marker);
      expect((await sharp(jpeg).metadata()).exif).toBeDefined();
      const uploaded = await uploadOk(app.origin, a.token, { bytes: jpeg, filename: 'cam.jpg' });
      // Orientation 6 turns the 300×100 pixels upright: 100 wide, 300 high.
      expect(uploaded).toMatchObject({ mimeType: 'image/jpeg', width: 100, height: 300 });
      const sent = await send(a, { conversationId: id, attachmentIds: [uploaded.id] });
      for (const url of [sent.attachments[0]!.url, sent.attachments[0]!.thumbnailUrl!]) {
        const served = await download(`${app.origin}${url}`, bearer(b));
        expect(served.status).toBe(200);
        const meta = await sharp(served.bytes).metadata();
        expect(meta.exif).toBeUndefined();
        expect(meta.orientation).toBeUndefined();
        expect(meta.height).toBeGreaterThan(meta.width);
        expect(served.bytes.includes(marker)).toBe(false);
      }
    },
  );

  it.skipIf(!available)("a big image's thumbnail is at most 320 px and 100 KB", async () => {
    const { a, b, id } = await chat();
    const big = await detailedPng(4000, 3000);
    const uploaded = await uploadOk(app.origin, a.token, { bytes: big, filename: 'big.png' });
    expect(uploaded).toMatchObject({ width: 4000, height: 3000 });
    const sent = await send(a, { conversationId: id, attachmentIds: [uploaded.id] });
    const thumb = await download(`${app.origin}${sent.attachments[0]!.thumbnailUrl}`, bearer(b));
    expect(thumb.bytes.length).toBeLessThanOrEqual(100_000);
    const meta = await sharp(thumb.bytes).metadata();
    expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(320);
    expect(meta.width / meta.height).toBeCloseTo(4 / 3, 1);
  });

  it.skipIf(!available)(
    'keeps a GIF animated and serves a PDF as it came, whatever the names say',
    async () => {
      const { a, b, id } = await chat();
      const frame = (r: number) =>
        sharp({ create: { width: 30, height: 20, channels: 3, background: { r, g: 0, b: 0 } } })
          .png()
          .toBuffer();
      const gif = await sharp([await frame(255), await frame(0)], { join: { animated: true } })
        .gif()
        .toBuffer();
      const pdf = Buffer.from(
        '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
      );
      const up = [
        await uploadOk(app.origin, a.token, {
          bytes: gif,
          filename: 'anim.bin',
          type: 'text/plain',
        }),
        await uploadOk(app.origin, a.token, { bytes: pdf, filename: 'doc.txt' }),
      ];
      expect(up.map((u) => [u.mimeType, u.width, u.height])).toEqual([
        ['image/gif', 30, 20],
        ['application/pdf', null, null],
      ]);
      const sent = await send(a, { conversationId: id, attachmentIds: up.map((u) => u.id) });
      const [animated, document] = sent.attachments;
      const served = await download(`${app.origin}${animated!.url}`, bearer(b));
      expect(served.headers.get('content-type')).toBe('image/gif');
      expect((await sharp(served.bytes).metadata()).pages).toBe(2);
      expect(document!.thumbnailUrl).toBeNull();
      const doc = await download(`${app.origin}${document!.url}`);
      expect(doc.headers.get('content-type')).toBe('application/pdf');
      expect(doc.headers.get('content-disposition')).toMatch(/^inline; filename="doc.txt"/);
      expect(doc.bytes).toEqual(pdf);
    },
  );

  it.skipIf(!available)(
    'refuses executables dressed as images, and other content, storing nothing',
    async () => {
      const { a } = await chat();
      const before = blobs();
      const cases = [
        { bytes: ELF, filename: 'x.png', type: 'image/png' },
        { bytes: MZ, filename: 'invoice.png', type: 'image/png' },
        { bytes: Buffer.from('PK\x03\x04 zip archive\0\0'), filename: 'a.txt', type: 'text/plain' },
        // A PNG signature on top of garbage is no image.
        {
          bytes: Buffer.concat([(await png()).subarray(0, 40), Buffer.alloc(200, 7)]),
          filename: 'b.png',
        },
        // Not UTF-8, and not anything else either.
        { bytes: Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xff, 0xfe, 0x41]), filename: 'c.txt' },
      ];
      for (const file of cases) {
        const reply = await upload(app.origin, a.token, file);
        expect(reply.status, file.filename).toBe(415);
        expect(reply.body.error?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
        expect(reply.body.error?.message).toMatch(/cannot be attached/);
      }
      const empty = await upload(app.origin, a.token, {
        bytes: Buffer.alloc(0),
        filename: 'e.txt',
      });
      expect(empty.status).toBe(400);
      expect(blobs()).toEqual(before);
    },
  );

  it.skipIf(!available)('answers malformed uploads with a JSON error, never a crash', async () => {
    const { a } = await chat();
    const post = (body: RequestInit['body'], headers: Record<string, string>) =>
      fetch(`${app.origin}/attachments`, { method: 'POST', headers, body }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { error: { code: string; message: string } },
      }));
    const auth = { authorization: `Bearer ${a.token}` };

    const noToken = await upload(app.origin, undefined, { bytes: await png(), filename: 'a.png' });
    expect(noToken.status).toBe(401);
    expect(noToken.body.error?.code).toBe('UNAUTHENTICATED');
    const badToken = await post(undefined, { authorization: 'Bearer nope' });
    expect(badToken.status).toBe(401);

    const wrongField = await upload(
      app.origin,
      a.token,
      { bytes: await png(), filename: 'a.png' },
      'image',
    );
    expect(wrongField).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });

    const two = new FormData();
    two.append('file', new Blob([await png()]), 'a.png');
    two.append('file', new Blob([await png()]), 'b.png');
    expect((await post(two, auth)).status).toBe(400);

    const none = new FormData();
    none.append('note', 'no file here');
    expect(await post(none, auth)).toMatchObject({
      status: 400,
      body: { error: { code: 'BAD_REQUEST' } },
    });

    expect(
      (await post(JSON.stringify({ file: 'x' }), { ...auth, 'content-type': 'application/json' }))
        .status,
    ).toBe(400);
    expect((await post('garbage', { ...auth, 'content-type': 'multipart/form-data' })).status).toBe(
      400,
    );

    const boundary = 'XyZ';
    const truncated = `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.txt"\r\ncontent-type: text/plain\r\n\r\nhello, this body just sto`;
    const cut = await post(truncated, {
      ...auth,
      'content-type': `multipart/form-data; boundary=${boundary}`,
    });
    expect(cut).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
    for (const reply of [wrongField, noToken])
      expect(JSON.stringify(reply.body)).not.toMatch(/\.ts:\d+|at \w+ \(/);
    // Nothing was left in the spool folder.
    expect(filesUnder(path.join(app.dataDir, 'attachments', 'incoming'))).toEqual([]);
  });

  it.skipIf(!available)(
    "attaching someone else's, an already sent, or an unknown upload is NOT_FOUND and sends nothing",
    async () => {
      const { a, b, id } = await chat();
      const mine = await uploadOk(app.origin, a.token, { bytes: await png(), filename: 'a.png' });
      const theirs = await uploadOk(app.origin, b.token, { bytes: await png(), filename: 'b.png' });
      const sendRes = (user: TestUser, input: Record<string, unknown>) =>
        app.gql<Sent>(SEND, { input }, user.token);

      for (const attachmentIds of [[theirs.id], [mine.id, theirs.id], [randomUUID()], ['nope']]) {
        const res = await sendRes(a, { conversationId: id, body: 'x', attachmentIds });
        expect(errorCode(res), JSON.stringify(attachmentIds)).toBe('NOT_FOUND');
      }
      // Through toPhone too: the 1:1 is not created when the attachment fails.
      const newcomer = await registerUser(app, 'New');
      const viaPhone = await sendRes(a, {
        toPhone: newcomer.phone,
        body: 'x',
        attachmentIds: [theirs.id],
      });
      expect(errorCode(viaPhone)).toBe('NOT_FOUND');
      const conversations = await app.gql<{ conversations: { edges: unknown[] } }>(
        `{ conversations(first: 10) { edges { node { id } } } }`,
        {},
        newcomer.token,
      );
      expect(ok(conversations).conversations.edges).toHaveLength(0);

      // Nothing was sent: the next message is seq 2 and carries the attachment.
      const clientMessageId = randomUUID();
      const sent = await send(a, { conversationId: id, attachmentIds: [mine.id], clientMessageId });
      expect(sent.seq).toBe(2);
      expect(sent.body).toBe('');
      // A retry returns the original with its attachment; sending it again elsewhere fails.
      const retry = await send(a, {
        conversationId: id,
        attachmentIds: [mine.id],
        clientMessageId,
      });
      expect(retry.id).toBe(sent.id);
      expect(retry.attachments.map((x) => x.id)).toEqual([mine.id]);
      expect(
        errorCode(
          await sendRes(a, { conversationId: id, body: 'again', attachmentIds: [mine.id] }),
        ),
      ).toBe('NOT_FOUND');

      // Input rules: at most 10, no repeats, and a body unless there are attachments.
      const eleven = Array.from({ length: 11 }, () => randomUUID());
      const bad = [
        { conversationId: id, body: 'x', attachmentIds: eleven },
        { conversationId: id, body: 'x', attachmentIds: [theirs.id, theirs.id] },
        { conversationId: id, body: '' },
        { conversationId: id },
        { conversationId: id, body: '  ', attachmentIds: [] },
      ];
      for (const input of bad) {
        expect(errorCode(await sendRes(a, input)), JSON.stringify(input).slice(0, 60)).toBe(
          'BAD_USER_INPUT',
        );
      }
      expect(
        ok(
          await app.gql<{ conversation: { lastMessage: { seq: number } } }>(
            `query($id: ID!) { conversation(id: $id) { lastMessage { seq } } }`,
            { id },
            a.token,
          ),
        ).conversation.lastMessage.seq,
      ).toBe(2);
    },
  );

  it.skipIf(!available)(
    'ten attachments keep their order; a page of them costs one attachment lookup',
    async () => {
      const { a, b, id } = await chat();
      const ups: Uploaded[] = [];
      for (let i = 0; i < 10; i++) {
        ups.push(
          await uploadOk(app.origin, a.token, {
            bytes: Buffer.from(`file ${i}\n`),
            filename: `${i}.txt`,
          }),
        );
      }
      const sent = await send(a, {
        conversationId: id,
        body: 'ten',
        attachmentIds: ups.map((u) => u.id),
      });
      expect(sent.attachments.map((x) => x.filename)).toEqual(ups.map((u) => u.filename));
      for (let i = 0; i < 5; i++) {
        const one = await uploadOk(app.origin, b.token, {
          bytes: Buffer.from(`more ${i}`),
          filename: 'm.txt',
        });
        await send(b, { conversationId: id, body: `m${i}`, attachmentIds: [one.id] });
      }
      const startAt = app.statements.length;
      const page = ok(
        await app.gql<{ messages: { edges: { node: { attachments: unknown[] } }[] } }>(
          PAGE,
          { id },
          b.token,
        ),
      );
      expect(page.messages.edges.map((e) => e.node.attachments.length)).toEqual([
        0, 10, 1, 1, 1, 1, 1,
      ]);
      const lookups = app.statements.slice(startAt).filter((q) => /from "attachments"/.test(q));
      expect(lookups).toHaveLength(1);
    },
  );

  it.skipIf(!available)('subscribers receive messages with their attachments', async () => {
    const { a, b, id } = await chat();
    const client = connect(app.wsUrl, b.token);
    try {
      const received = subscribe<{ seq: number; attachments: SentAttachment[] }>(
        client,
        `subscription($id: ID!) { messageAdded(conversationId: $id) { seq attachments { ${ATTACHMENT} } } }`,
        { id },
      );
      await vi.waitFor(
        async () => {
          // Subscribed once a message sent now arrives.
          await send(a, { conversationId: id, body: 'ping' });
          await received.until((items) => items.length > 0, 500);
        },
        { timeout: 10_000, interval: 50 },
      );
      const uploaded = await uploadOk(app.origin, a.token, {
        bytes: await png(),
        filename: 'p.png',
      });
      const sent = await send(a, { conversationId: id, attachmentIds: [uploaded.id] });
      const items = await received.until((list) => list.some((m) => m.seq === sent.seq));
      const pushed = items.find((m) => m.seq === sent.seq)!;
      expect(pushed.attachments.map((x) => x.id)).toEqual([uploaded.id]);
      const fetched = await download(`${app.origin}${pushed.attachments[0]!.url}`);
      expect(fetched.status).toBe(200);
      expect(fetched.headers.get('content-type')).toBe('image/png');
      received.stop();
    } finally {
      await client.dispose();
    }
  });

  it.skipIf(!available)(
    'an upload the storage fails midway leaves no row, and its stored files go once storage is back',
    async () => {
      const a = await registerUser(app, 'A');
      const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-failing-store-'));
      try {
        // The thumbnail is stored, then storage goes down: the original fails, deletes too.
        const local = createLocalBlobStore(path.join(dir, 'blobs'));
        let down = false;
        const failing: BlobStore = {
          kind: 'local',
          put: async (key, source, info) => {
            if (!key.endsWith('.thumbnail')) down = true;
            if (down) throw new Error('storage is down');
            return local.put(key, source, info);
          },
          get: (key, range) => local.get(key, range),
          delete: async (keys) => {
            if (down) throw new Error('storage is down');
            return local.delete(keys);
          },
        };
        const removeDiscardedSoon = vi.fn();
        const spooled = path.join(dir, 'spooled');
        const bytes = await png(640, 480);
        writeFileSync(spooled, bytes);
        const upload = acceptUpload(
          app.database.db,
          {
            blobs: failing,
            urls: createUrlSigner('failing-store-test-secret-0123456789', 900),
            maxBytes: 10 * 1024 * 1024,
            removeDiscardedSoon,
          },
          a.id,
          { path: spooled, size: bytes.length, filename: 'p.png' },
        );
        // The storage's own error, not one from cleaning up after it.
        await expect(upload).rejects.toThrow('storage is down');
        const rows = await app.database.db
          .select()
          .from(attachments)
          .where(eq(attachments.uploaderId, a.id));
        expect(rows).toEqual([]);
        expect(removeDiscardedSoon).toHaveBeenCalledTimes(1);
        expect(filesUnder(path.join(dir, 'blobs'))).toHaveLength(1); // the thumbnail

        down = false;
        await removeDiscardedBlobs(app.database.db, failing);
        expect(filesUnder(dir)).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe.each(backends())('attachment limits and sweep on $name', ({ name, available }) => {
  let app: TestApp;
  const maxBytes = 1024 * 1024;
  beforeAll(async () => {
    if (available) {
      app = await startApp(name, {
        env: {
          ATTACHMENT_MAX_BYTES: String(maxBytes),
          ATTACHMENT_UNATTACHED_TTL_SECONDS: '1',
          ATTACHMENT_SWEEP_INTERVAL_MS: '100',
          // The real limits: uploads are counted per user (60 a minute).
          RATE_LIMIT_MULTIPLIER: '1',
        },
      });
    }
  });
  afterAll(async () => app?.close());
  const attachmentsDir = () => path.join(app.dataDir, 'attachments');

  it.skipIf(!available)(
    'an oversized upload is cut off while streaming (413) and leaves no file behind',
    async () => {
      const a = await registerUser(app, 'A');
      const boundary = 'bOuNdArY';
      const head = Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="big.txt"\r\ncontent-type: text/plain\r\n\r\n`,
      );
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      // Chunked, with no Content-Length: only the streamed limit can stop it.
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(head);
        },
        pull(controller) {
          if (sent >= 3 * maxBytes) {
            controller.enqueue(Buffer.from(`\r\n--${boundary}--\r\n`));
            controller.close();
            return;
          }
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      });
      const res = await fetch(`${app.origin}/attachments`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${a.token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
        },
        body,
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
      expect(filesUnder(attachmentsDir())).toEqual([]);

      // With a Content-Length over the limit it is refused before reading.
      const declared = await upload(app.origin, a.token, {
        bytes: Buffer.alloc(maxBytes + 100 * 1024, 'b'),
        filename: 'big.txt',
      });
      expect(declared.status).toBe(413);
      // Just over the limit, within the multipart allowance: cut off while streaming.
      const justOver = await upload(app.origin, a.token, {
        bytes: Buffer.alloc(maxBytes + 1, 'c'),
        filename: 'big.txt',
      });
      expect(justOver.status).toBe(413);
      expect(filesUnder(attachmentsDir())).toEqual([]);
      // Exactly the limit is fine.
      const atLimit = await upload(app.origin, a.token, {
        bytes: Buffer.alloc(maxBytes, 'd'),
        filename: 'ok.txt',
      });
      expect(atLimit.status).toBe(201);
      expect(atLimit.body.size).toBe(maxBytes);
    },
  );

  it.skipIf(!available)('limits uploads per user, answering 429 with Retry-After', async () => {
    const [a, b] = await Promise.all([registerUser(app, 'A'), registerUser(app, 'B')]);
    const file = { bytes: Buffer.from('tiny\n'), filename: 't.txt' };
    for (let i = 0; i < 60; i++) await uploadOk(app.origin, a.token, file);
    const refused = await upload(app.origin, a.token, file);
    expect(refused.status).toBe(429);
    expect(refused.body.error?.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another user is not affected.
    expect((await upload(app.origin, b.token, file)).status).toBe(201);
  });

  it.skipIf(!available)('uploads never attached are swept with their files', async () => {
    const a = await registerUser(app, 'A');
    const b = await registerUser(app, 'B');
    const { id } = ok(
      await app.gql<{ startDirectConversation: { id: string } }>(
        `mutation($p: String!) { startDirectConversation(phone: $p) { id } }`,
        { p: b.phone },
        a.token,
      ),
    ).startDirectConversation;
    const bytes = await png();
    const stale = await uploadOk(app.origin, a.token, { bytes, filename: 'stale.png' });
    // Sent right away: attached uploads are never swept.
    const kept = await uploadOk(app.origin, a.token, { bytes, filename: 'kept.png' });
    const sent = ok(
      await app.gql<Sent>(
        SEND,
        { input: { conversationId: id, attachmentIds: [kept.id] } },
        a.token,
      ),
    ).sendMessage;
    await vi.waitFor(
      () => expect(filesUnder(path.join(attachmentsDir(), 'blobs')).join()).not.toContain(stale.id),
      {
        timeout: 15_000,
        interval: 100,
      },
    );
    const late = await app.gql(
      SEND,
      { input: { conversationId: id, attachmentIds: [stale.id] } },
      a.token,
    );
    expect(errorCode(late)).toBe('NOT_FOUND');
    const still = await download(`${app.origin}${sent.attachments[0]!.url}`);
    expect(still.status).toBe(200);
    expect(
      filesUnder(path.join(attachmentsDir(), 'blobs')).filter((f) => f.includes(kept.id)),
    ).toHaveLength(2);
  });
});
