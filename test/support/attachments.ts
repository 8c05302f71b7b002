// Uploads and downloads the way a browser or curl does them, and test files made with sharp.
import { readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import sharp from 'sharp';

export interface Uploaded {
  id: string;
  mimeType: string;
  size: number;
  width: number | null;
  height: number | null;
  filename: string;
}

export interface UploadReply {
  status: number;
  headers: Headers;
  body: { error?: { code: string; message: string } } & Partial<Uploaded>;
}

/** POST /attachments with one file in the "file" field. */
export async function upload(
  origin: string,
  token: string | undefined,
  file: { bytes: Uint8Array; filename: string; type?: string },
  field = 'file',
): Promise<UploadReply> {
  const form = new FormData();
  form.append(
    field,
    new Blob([file.bytes], { type: file.type ?? 'application/octet-stream' }),
    file.filename,
  );
  const res = await fetch(`${origin}/attachments`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as never };
}

/** An upload that must succeed. */
export async function uploadOk(
  origin: string,
  token: string,
  file: { bytes: Uint8Array; filename: string; type?: string },
): Promise<Uploaded> {
  const reply = await upload(origin, token, file);
  if (reply.status !== 201) {
    throw new Error(`upload failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  }
  return reply.body as Uploaded;
}

/**
 * A GET on a connection of its own (no keep-alive reuse: on a loaded machine a reused idle
 * connection can meet the server's keep-alive timeout and be reset, which says nothing about
 * the server's answers).
 */
export function download(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const h = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) h.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        resolve({ status: res.statusCode ?? 0, headers: h, bytes: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every file under a folder (recursively), relative paths. */
export function filesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full).map((f) => path.join(name, f)) : [name];
  });
}

/** A JPEG with EXIF (a camera-ish tag and orientation 6: rotate 90° to display). */
export function jpegWithExif(width: number, height: number, marker: string): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: 3, background: { r: 200, g: 40, b: 40 } },
  })
    .jpeg()
    .withExif({ IFD0: { Copyright: marker, Artist: marker } })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

/** A big image with detail everywhere (blocks of noise), so thumbnails have work to do. */
export async function detailedPng(width: number, height: number): Promise<Buffer> {
  const small = { width: Math.ceil(width / 8), height: Math.ceil(height / 8) };
  const noise = Buffer.alloc(small.width * small.height * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  return sharp(noise, { raw: { ...small, channels: 3 } })
    .resize(width, height, { kernel: 'nearest' })
    .png()
    .toBuffer();
}
