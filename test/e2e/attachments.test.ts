// Attachments across two real server processes that share PostgreSQL, Redis and one storage
// folder (DATA_DIR): an upload on one instance is sent and downloaded through the other.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { download, filesUnder, jpegWithExif, upload, uploadOk } from '../support/attachments.js';
import {
  gqlAt,
  okAt,
  registerAt,
  startServerProcess,
  type ServerProcess,
} from '../support/process.js';
import { createDatabase } from '../support/services.js';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  id seq conversationId attachments { id mimeType size width height url thumbnailUrl } } }`;

interface Sent {
  sendMessage: {
    id: string;
    seq: number;
    conversationId: string;
    attachments: {
      id: string;
      mimeType: string;
      size: number;
      width: number | null;
      height: number | null;
      url: string;
      thumbnailUrl: string | null;
    }[];
  };
}

const dirs: string[] = [];
const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.allSettled(servers.map((s) => s.stop('SIGTERM')));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const postgresUrl = inject('postgresUrl');
const redisUrl = inject('redisUrl');
const MAX_BYTES = 1024 * 1024;

describe('attachments on two instances sharing storage', () => {
  it.skipIf(postgresUrl === '' || redisUrl === '')(
    'upload on one, send and download on the other; non-members 404; forged, foreign and oversized uploads refused',
    async () => {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-att-e2e-'));
      dirs.push(dataDir);
      const env = {
        DATABASE_URL: await createDatabase(postgresUrl),
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: `e2e-att-${randomBytes(4).toString('hex')}:`,
        NODE_ENV: 'production',
        JWT_SECRET: 'attachments-e2e-secret-attachments-e2e-secret',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        ATTACHMENT_MAX_BYTES: String(MAX_BYTES),
      };
      const [one, two] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
      servers.push(one, two);
      const origin = (s: ServerProcess) => `http://127.0.0.1:${s.port}`;

      const ann = await registerAt(one, 'Ann');
      const bob = await registerAt(two, 'Bob');
      const eve = await registerAt(one, 'Eve');
      const opened = await okAt<Sent>(
        one,
        SEND,
        { input: { toPhone: bob.phone, body: 'hi' } },
        ann.token,
      );
      const conversationId = opened.sendMessage.conversationId;

      const marker = `exif-${randomBytes(6).toString('hex')}`;
      const photo = await jpegWithExif(800, 600, marker);
      const uploaded = await uploadOk(origin(one), ann.token, { bytes: photo, filename: 'p.jpg' });
      expect(uploaded).toMatchObject({ mimeType: 'image/jpeg', width: 600, height: 800 });

      // Sent through the other instance.
      const sent = (
        await okAt<Sent>(
          two,
          SEND,
          { input: { conversationId, body: 'photo', attachmentIds: [uploaded.id] } },
          ann.token,
        )
      ).sendMessage;
      const [att] = sent.attachments;
      expect(att).toMatchObject({ id: uploaded.id, size: uploaded.size });

      // Bob downloads from both instances, by header and by the signed URL minted on instance two.
      for (const server of [one, two]) {
        const byHeader = await download(`${origin(server)}/attachments/${uploaded.id}`, {
          authorization: `Bearer ${bob.token}`,
        });
        expect(byHeader.status).toBe(200);
        expect(byHeader.headers.get('content-type')).toBe('image/jpeg');
        expect(byHeader.headers.get('content-length')).toBe(String(uploaded.size));
        expect(byHeader.bytes.includes(marker)).toBe(false);
        expect((await sharp(byHeader.bytes).metadata()).exif).toBeUndefined();
        const signed = await download(`${origin(server)}${att!.url}`);
        expect(signed.bytes).toEqual(byHeader.bytes);
        const thumb = await download(`${origin(server)}${att!.thumbnailUrl}`);
        expect(thumb.status).toBe(200);
        expect(thumb.headers.get('content-type')).toBe('image/webp');
        expect(thumb.bytes.length).toBeLessThanOrEqual(100_000);
        const meta = await sharp(thumb.bytes).metadata();
        expect([meta.width, meta.height]).toEqual([240, 320]);
        const ranged = await download(`${origin(server)}${att!.url}`, { range: 'bytes=0-99' });
        expect(ranged.status).toBe(206);
        expect(ranged.bytes).toEqual(byHeader.bytes.subarray(0, 100));
        const denied = await download(`${origin(server)}/attachments/${uploaded.id}`, {
          authorization: `Bearer ${eve.token}`,
        });
        expect(denied.status).toBe(404);
      }

      // Eve cannot attach Bob's upload, on either instance.
      const bobs = await uploadOk(origin(two), bob.token, {
        bytes: Buffer.from('notes\n'),
        filename: 'n.txt',
      });
      const eveChat = await okAt<Sent>(
        one,
        SEND,
        { input: { toPhone: ann.phone, body: 'hey' } },
        eve.token,
      );
      for (const server of [one, two]) {
        const res = await gqlAt(
          server.url,
          SEND,
          {
            input: {
              conversationId: eveChat.sendMessage.conversationId,
              body: 'stolen',
              attachmentIds: [bobs.id],
            },
          },
          eve.token,
        );
        expect(res.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
      }

      // An executable named .png, and a file over the limit, leave nothing in the shared folder.
      const before = filesUnder(path.join(dataDir, 'attachments'));
      const elf = Buffer.concat([
        Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
        Buffer.alloc(200),
      ]);
      const forged = await upload(origin(two), ann.token, {
        bytes: elf,
        filename: 'x.png',
        type: 'image/png',
      });
      expect(forged.status).toBe(415);
      expect(forged.body.error?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      const big = await upload(origin(one), ann.token, {
        bytes: Buffer.alloc(MAX_BYTES + 10, 'x'),
        filename: 'big.txt',
      });
      expect(big.status).toBe(413);
      expect(big.body.error?.code).toBe('PAYLOAD_TOO_LARGE');
      expect(filesUnder(path.join(dataDir, 'attachments'))).toEqual(before);
    },
    60_000,
  );
});
