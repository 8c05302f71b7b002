import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { S3Config } from '../../src/config.js';
import { createUrlSigner } from '../../src/domain/attachment-urls.js';
import { cleanFilename, parseAttachmentIds } from '../../src/domain/attachments.js';
import { DomainError } from '../../src/domain/errors.js';
import { contentDisposition } from '../../src/http/attachments.js';
import { createS3BlobStore, s3ClientConfig, type S3Sender } from '../../src/storage/s3-store.js';

const SECRET = 'unit-test-secret-0123456789abcdefghij';
const ID = '6f1c2a8e-3b4d-4c5e-8f90-112233445566';

describe('signed download URLs', () => {
  it('work until they expire, for that attachment and variant only', () => {
    let now = 1_800_000_000_000;
    const signer = createUrlSigner(SECRET, 900, () => now);
    const url = signer.url(ID, 'original');
    const match = /^\/attachments\/([\w-]+)\?exp=(\d+)&sig=([\w-]+)$/.exec(url)!;
    expect(match[1]).toBe(ID);
    const [, , exp, sig] = match as unknown as [string, string, string, string];
    expect(signer.verify(ID, 'original', exp, sig)).toBe(true);
    expect(signer.verify(ID, 'thumbnail', exp, sig)).toBe(false);
    expect(signer.verify(ID.replace('6f', '7f'), 'original', exp, sig)).toBe(false);
    expect(signer.verify(ID, 'original', String(Number(exp) + 1), sig)).toBe(false);
    expect(signer.verify(ID, 'original', exp, sig.slice(1))).toBe(false);
    // Valid for between two thirds of the lifetime and all of it.
    const left = Number(exp) - now / 1000;
    expect(left).toBeGreaterThan(600);
    expect(left).toBeLessThanOrEqual(900);
    now = Number(exp) * 1000;
    expect(signer.verify(ID, 'original', exp, sig)).toBe(false);
    expect(signer.url(ID, 'thumbnail')).toMatch(new RegExp(`^/attachments/${ID}/thumbnail\\?`));
  });

  it('stay the same for a while, and differ with another secret', () => {
    const now = 1_800_000_000_000;
    const a = createUrlSigner(SECRET, 900, () => now);
    const later = createUrlSigner(SECRET, 900, () => now + 1_000);
    expect(later.url(ID, 'original')).toBe(a.url(ID, 'original'));
    const other = createUrlSigner(`${SECRET}x`, 900, () => now);
    expect(other.url(ID, 'original')).not.toBe(a.url(ID, 'original'));
  });
});

describe('attachment ids of a send', () => {
  const code = (ids: string[]) => {
    try {
      parseAttachmentIds(ids);
      return 'ok';
    } catch (err) {
      return (err as DomainError).code;
    }
  };
  it('accepts up to ten distinct ids, none, or null', () => {
    const ten = Array.from({ length: 10 }, (_, i) => ID.replace('66', String(10 + i)));
    expect(parseAttachmentIds(ten)).toEqual(ten);
    expect(parseAttachmentIds(null)).toEqual([]);
    expect(parseAttachmentIds([])).toEqual([]);
  });
  it('refuses eleven or a repeat as BAD_USER_INPUT, and a non-id as NOT_FOUND', () => {
    expect(code(Array.from({ length: 11 }, (_, i) => ID.replace('66', String(10 + i))))).toBe(
      'BAD_USER_INPUT',
    );
    expect(code([ID, ID])).toBe('BAD_USER_INPUT');
    expect(code(['../etc/passwd'])).toBe('NOT_FOUND');
  });
});

describe('file names', () => {
  it('keep the last path segment without control or direction characters', () => {
    expect(cleanFilename('C:\\Users\\me\\photo.jpg', 'image/jpeg')).toBe('photo.jpg');
    expect(cleanFilename('../../etc/passwd', 'text/plain')).toBe('passwd');
    expect(cleanFilename('evil\u202Egnp.exe', 'image/png')).toBe('evilgnp.exe');
    expect(cleanFilename('a\r\nb\u0000.txt', 'text/plain')).toBe('ab.txt');
    expect(cleanFilename(undefined, 'application/pdf')).toBe('attachment.pdf');
    expect(cleanFilename('..', 'image/gif')).toBe('attachment.gif');
    expect(cleanFilename('x'.repeat(500), 'text/plain')).toHaveLength(200);
  });

  it('go into Content-Disposition with an ASCII fallback and the exact UTF-8 name', () => {
    expect(contentDisposition('inline', 'report.pdf')).toBe(
      `inline; filename="report.pdf"; filename*=UTF-8''report.pdf`,
    );
    expect(contentDisposition('attachment', 'naïve "quote"; 100%.txt')).toBe(
      `attachment; filename="na_ve _quote_; 100_.txt"; filename*=UTF-8''na%C3%AFve%20%22quote%22%3B%20100%25.txt`,
    );
  });
});

// No S3 server is available to the tests: these check what the store asks S3 for.
describe('S3 blob store', () => {
  const config: S3Config = {
    bucket: 'parley-files',
    region: 'eu-central-1',
    endpoint: 'http://127.0.0.1:9000',
    accessKeyId: 'key',
    secretAccessKey: 'secret',
    forcePathStyle: true,
    keyPrefix: 'attachments/',
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-s3-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function recorder(reply: unknown = {}) {
    const sent: { name: string; input: Record<string, unknown> }[] = [];
    const client: S3Sender = {
      send: async (command) => {
        sent.push({
          name: command.constructor.name,
          input: command.input as unknown as Record<string, unknown>,
        });
        if (command.input && 'Body' in command.input) {
          // Consume the upload body as the SDK would.
          for await (const _ of command.input.Body as Readable);
        }
        return reply;
      },
    };
    return { client, sent };
  }

  it('puts a file under the prefix with its type and length, then removes the spool file', async () => {
    const { client, sent } = recorder();
    const file = path.join(dir, 'upload');
    writeFileSync(file, 'hello');
    await createS3BlobStore(config, client).put(`${ID}.thumbnail`, file, {
      contentType: 'image/webp',
      size: 5,
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.name).toBe('PutObjectCommand');
    expect(sent[0]!.input).toMatchObject({
      Bucket: 'parley-files',
      Key: `attachments/${ID}.thumbnail`,
      ContentType: 'image/webp',
      ContentLength: 5,
    });
    expect(existsSync(file)).toBe(false);
  });

  it('passes a byte range through to GetObject and returns the body', async () => {
    const { client, sent } = recorder({ Body: Readable.from([Buffer.from('abc')]) });
    const store = createS3BlobStore(config, client);
    const body = await store.get(ID, { start: 10, end: 19 });
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('abc');
    expect(sent[0]).toEqual({
      name: 'GetObjectCommand',
      input: { Bucket: 'parley-files', Key: `attachments/${ID}`, Range: 'bytes=10-19' },
    });
  });

  it('deletes in batches of at most 1,000 keys', async () => {
    const { client, sent } = recorder();
    const keys = Array.from({ length: 2_500 }, (_, i) => `k${i}`);
    await createS3BlobStore(config, client).delete(keys);
    const batches = sent.map((s) => (s.input['Delete'] as { Objects: { Key: string }[] }).Objects);
    expect(batches.map((b) => b.length)).toEqual([1_000, 1_000, 500]);
    expect(batches[0]![0]).toEqual({ Key: 'attachments/k0' });
    expect(sent.every((s) => s.name === 'DeleteObjectsCommand')).toBe(true);
  });

  it('configures the client for S3-compatible endpoints', () => {
    expect(s3ClientConfig(config)).toEqual({
      region: 'eu-central-1',
      endpoint: 'http://127.0.0.1:9000',
      // Checksums only where S3 requires them: no aws-chunked uploads (see s3-store.test.ts).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      forcePathStyle: true,
      credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
    });
    const aws = s3ClientConfig({
      ...config,
      endpoint: undefined,
      accessKeyId: undefined,
      secretAccessKey: undefined,
      forcePathStyle: false,
    });
    expect(aws).toEqual({ region: 'eu-central-1', forcePathStyle: false });
  });
});
