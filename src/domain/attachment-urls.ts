// Signed download paths for attachments: what Message.attachments hands to members.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { BlobVariant } from '../storage/blob-store.js';

export interface UrlSigner {
  /** A path (relative to the server) that downloads the variant until it expires. */
  url(id: string, variant: BlobVariant): string;
  verify(id: string, variant: BlobVariant, expires: string, signature: string): boolean;
}

/**
 * HMAC-SHA256 over (id, variant, expiry) with a key derived from the token secret. The viewer is
 * not part of it: a URL is handed only to members (when they resolve Message.attachments) and is
 * a short-lived capability from then on. That also keeps a message's resolved fields the same for
 * every member, which fan-out relies on (shared-execution.ts). Expiry times are rounded to a third
 * of the lifetime, so a URL stays the same for a while (browser caches hit) and is valid for
 * between two thirds of the lifetime and all of it.
 */
export function createUrlSigner(
  secret: string,
  ttlSeconds: number,
  now: () => number = Date.now,
): UrlSigner {
  const key = Buffer.from(hkdfSync('sha256', secret, 'parley', 'attachment download urls', 32));
  const mac = (id: string, variant: BlobVariant, expires: string) =>
    createHmac('sha256', key).update(`${id}\n${variant}\n${expires}`).digest();
  const step = Math.max(1, Math.floor(ttlSeconds / 3));
  return {
    url(id, variant) {
      const expires = String((Math.floor(now() / 1000 / step) + 3) * step);
      const sig = mac(id, variant, expires).toString('base64url');
      const path = variant === 'original' ? `/attachments/${id}` : `/attachments/${id}/thumbnail`;
      return `${path}?exp=${expires}&sig=${sig}`;
    },
    verify(id, variant, expires, signature) {
      if (!/^\d{1,12}$/.test(expires) || Number(expires) * 1000 <= now()) return false;
      const given = Buffer.from(signature, 'base64url');
      const expected = mac(id, variant, expires);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
