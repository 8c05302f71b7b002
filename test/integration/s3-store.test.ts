// The S3 blob store with the real AWS SDK client, over HTTP, against a small S3-compatible endpoint
// in this process (no S3 server is installable here). The endpoint keeps objects in memory and,
// like many S3-compatible stores and proxies, refuses uploads streamed as `aws-chunked` with a
// trailing checksum: what the SDK sends by default since 3.729.
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Config } from '../../src/config.js';
import { createS3BlobStore } from '../../src/storage/s3-store.js';

interface S3Request {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

function xmlError(res: http.ServerResponse, status: number, code: string) {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code></Error>`);
}

/** Path-style PUT / GET (with Range) / POST ?delete on one bucket, objects in memory. */
async function startS3Compatible(bucket: string) {
  const objects = new Map<string, { body: Buffer; type: string }>();
  const requests: S3Request[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://s3.local');
      requests.push({ method: req.method!, path: url.pathname, headers: req.headers });
      const [, b, ...rest] = url.pathname.split('/');
      const key = decodeURIComponent(rest.join('/'));
      if (b !== bucket) return xmlError(res, 404, 'NoSuchBucket');
      const body = Buffer.concat(chunks);
      if (req.method === 'PUT') {
        if (
          req.headers['content-encoding']?.includes('aws-chunked') ||
          req.headers['x-amz-trailer']
        ) {
          return xmlError(res, 501, 'NotImplemented');
        }
        if (req.headers['content-length'] !== String(body.length)) {
          return xmlError(res, 411, 'MissingContentLength');
        }
        objects.set(key, { body, type: req.headers['content-type'] ?? 'binary/octet-stream' });
        res.writeHead(200, { etag: '"1"' });
        return res.end();
      }
      if (req.method === 'GET') {
        const object = objects.get(key);
        if (!object) return xmlError(res, 404, 'NoSuchKey');
        const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
        const [start, end] = range
          ? [Number(range[1]), Math.min(Number(range[2]), object.body.length - 1)]
          : [0, object.body.length - 1];
        res.writeHead(range ? 206 : 200, {
          'content-type': object.type,
          'content-length': String(end - start + 1),
          ...(range ? { 'content-range': `bytes ${start}-${end}/${object.body.length}` } : {}),
        });
        return res.end(object.body.subarray(start, end + 1));
      }
      if (req.method === 'POST' && url.searchParams.has('delete')) {
        for (const [, k] of body.toString().matchAll(/<Key>([^<]*)<\/Key>/g)) objects.delete(k!);
        res.writeHead(200, { 'content-type': 'application/xml' });
        return res.end('<?xml version="1.0" encoding="UTF-8"?><DeleteResult></DeleteResult>');
      }
      xmlError(res, 405, 'MethodNotAllowed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    objects,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('S3 blob store against an S3-compatible endpoint', () => {
  let s3: Awaited<ReturnType<typeof startS3Compatible>>;
  let config: S3Config;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-s3-'));
  beforeAll(async () => {
    s3 = await startS3Compatible('parley-files');
    config = {
      bucket: 'parley-files',
      region: 'us-east-1',
      endpoint: s3.endpoint,
      accessKeyId: 'key',
      secretAccessKey: 'secret',
      forcePathStyle: true,
      keyPrefix: 'attachments/',
    };
  });
  afterAll(async () => {
    await s3?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uploads with a Content-Length and a plain body, reads whole and ranged, and deletes', async () => {
    const store = createS3BlobStore(config);
    const file = path.join(dir, 'spooled');
    const content = 'Parley attachment bytes, 0123456789';
    writeFileSync(file, content);
    await store.put('a1', file, { contentType: 'text/plain', size: content.length });

    const upload = s3.requests.find((r) => r.method === 'PUT')!;
    expect(upload.path).toBe('/parley-files/attachments/a1');
    expect(upload.headers['content-length']).toBe(String(content.length));
    expect(upload.headers['content-encoding']).toBeUndefined();
    expect(s3.objects.get('attachments/a1')).toEqual({
      body: Buffer.from(content),
      type: 'text/plain',
    });
    expect(existsSync(file)).toBe(false);

    expect(await text(await store.get('a1'))).toBe(content);
    expect(await text(await store.get('a1', { start: 7, end: 16 }))).toBe('attachment');

    await store.delete(['a1', 'never-stored']);
    expect(s3.objects.size).toBe(0);
    await expect(store.get('a1')).rejects.toThrow();
  });
});
