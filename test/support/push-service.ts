/**
 * A REAL local Web Push service for the push-notification tests: the part of a browser vendor's
 * push service an application server talks to (RFC 8030), with VAPID checked (RFC 8292) and every
 * payload decrypted (RFC 8291, aes128gcm) with the keys of a subscription it made itself.
 *
 * It speaks HTTPS on a free loopback port with a throw-away self-signed certificate, because
 * web-push sends with `https.request` whatever the endpoint's scheme (an http:// endpoint fails
 * in the TLS handshake). Whoever sends must trust `service.ca`: web-push takes an https.Agent in
 * its `agent` option (`service.agent` is one), and request-filtering-agent's
 * RequestFilteringHttpsAgent takes `ca` (and `allowIPAddressList: ['127.0.0.1']`) in its options.
 */
import { createECDH, createPublicKey, randomBytes, verify } from 'node:crypto';
import type { ECDH } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { arrivals } from './arrivals.js';
import { selfSignedCert } from './self-signed-cert.js';

// http_ece (the library web-push encrypts with) has no types: the one call used here.
const ece = createRequire(import.meta.url)('http_ece') as {
  decrypt(
    body: Buffer,
    params: { version: 'aes128gcm'; privateKey: ECDH; authSecret: string },
  ): Buffer;
};

/** A subscription as a browser hands it over: flat, and as PushSubscription.toJSON() (`keys`). */
export interface TestPushSubscription {
  endpoint: string;
  /** The user agent's P-256 public key, uncompressed point, base64url. */
  p256dh: string;
  /** The 16-byte authentication secret, base64url. */
  auth: string;
  keys: { p256dh: string; auth: string };
}

/** A push the service accepted (answered 2xx), decrypted. */
export interface ReceivedPush {
  endpoint: string;
  /** The decrypted payload ('' for a push without one). */
  payload: string;
  /** `payload` parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  ttl: number;
  urgency: 'very-low' | 'low' | 'normal' | 'high';
  topic: string | undefined;
  /** The `sub` claim of the VAPID JWT (mailto: or https:). */
  vapidSub: string;
  /** Date.now() when it arrived. */
  receivedAt: number;
}

/** Every request to a push endpoint, answered or not, in order. */
export interface PushAttempt {
  endpoint: string;
  status: number;
  receivedAt: number;
}

/** A request refused for what it sent (VAPID, headers, body), with the reason. */
export interface RejectedPush {
  endpoint: string;
  status: number;
  reason: string;
  receivedAt: number;
}

export interface PushService {
  /** https://127.0.0.1:PORT — also the `aud` a VAPID JWT must carry. */
  readonly origin: string;
  /** The service's self-signed certificate (PEM): trust it as `ca`. */
  readonly ca: string;
  /** An https.Agent trusting `ca`, for web-push's `agent` option. */
  readonly agent: https.Agent;
  /** A new subscription with endpoint `${origin}/push/<random id>`. */
  createSubscription(): TestPushSubscription;
  /** The subscription is gone: its endpoint answers 410 from now on. */
  expire(endpoint: string): void;
  /**
   * The next requests to `endpoint` answer these statuses, in order, before the default 201:
   * a non-2xx one is answered without looking at the request (and nothing is received); a 2xx
   * one replaces the 201 of a request that passes every check.
   */
  respondWith(endpoint: string, statuses: number[]): void;
  /** The pushes received so far (for one endpoint, or all), oldest first. */
  received(endpoint?: string): ReceivedPush[];
  /** Every request to a /push/ path so far, with the status it got. */
  readonly attempts: readonly PushAttempt[];
  /** The requests refused for what they sent (401 for VAPID, 400, 413, 415). */
  readonly rejected: readonly RejectedPush[];
  /**
   * Resolves with all pushes received once `predicate` holds for them (checked now and on each
   * push); rejects after `timeoutMs` listing what did arrive.
   */
  waitFor(
    predicate: (pushes: ReceivedPush[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedPush[]>;
  close(): Promise<void>;
}

interface Subscription {
  endpoint: string;
  ecdh: ECDH;
  auth: string;
  expired: boolean;
  script: number[];
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(reason);
  }
}

const URGENCIES = ['very-low', 'low', 'normal', 'high'] as const;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** RFC 8030 §7.2: a push service must take 4096 octets of body; above that real ones answer 413. */
const MAX_BODY_BYTES = 4096;
const MAX_VAPID_LIFETIME_S = 24 * 60 * 60;

function fromBase64url(text: string, what: string): Buffer {
  if (!BASE64URL.test(text)) throw new Refusal(401, `${what} is not base64url`);
  return Buffer.from(text, 'base64url');
}

/**
 * Checks `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292 §3) and returns the JWT's `sub`.
 * The older `WebPush <JWT>` + `Crypto-Key: p256ecdsa=` form goes with the aesgcm encoding only
 * (web-push sends it with contentEncoding 'aesgcm'), which this service does not take.
 */
function checkVapid(
  authorization: string | undefined,
  audience: string,
  expectedKey: Buffer | undefined,
): string {
  if (!authorization) throw new Refusal(401, 'no Authorization header');
  const scheme = /^vapid\s+(.*)$/i.exec(authorization);
  if (!scheme) {
    throw new Refusal(401, `Authorization is not the vapid scheme: ${authorization.slice(0, 20)}…`);
  }
  const params = new Map<string, string>();
  for (const part of scheme[1]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const token = params.get('t');
  const k = params.get('k');
  if (!token || !k) throw new Refusal(401, 'vapid Authorization without t= or k=');

  const key = fromBase64url(k, 'vapid k');
  if (key.length !== 65 || key[0] !== 0x04) {
    throw new Refusal(401, 'vapid k is not an uncompressed P-256 point (65 bytes)');
  }
  if (expectedKey && !key.equals(expectedKey)) {
    throw new Refusal(401, 'vapid k is not the application server key of this service');
  }

  const parts = token.split('.');
  if (parts.length !== 3) throw new Refusal(401, 'vapid t is not a JWS compact serialization');
  const [headerPart, claimsPart, signaturePart] = parts as [string, string, string];
  let header: { alg?: unknown };
  let claims: { aud?: unknown; exp?: unknown; sub?: unknown };
  try {
    header = JSON.parse(fromBase64url(headerPart, 'JWT header').toString('utf8')) as typeof header;
    claims = JSON.parse(fromBase64url(claimsPart, 'JWT claims').toString('utf8')) as typeof claims;
  } catch (err) {
    if (err instanceof Refusal) throw err;
    throw new Refusal(401, 'vapid JWT header or claims are not JSON');
  }
  if (header.alg !== 'ES256') throw new Refusal(401, `vapid JWT alg is ${String(header.alg)}`);

  const publicKey = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: key.subarray(1, 33).toString('base64url'),
      y: key.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
  const signature = fromBase64url(signaturePart, 'JWT signature');
  const signed = Buffer.from(`${headerPart}.${claimsPart}`, 'ascii');
  if (
    signature.length !== 64 ||
    !verify('sha256', signed, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)
  ) {
    throw new Refusal(401, 'vapid JWT signature does not verify with k');
  }

  if (claims.aud !== audience) {
    throw new Refusal(401, `vapid aud is ${String(claims.aud)}, not ${audience}`);
  }
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= now) {
    throw new Refusal(401, `vapid exp ${String(claims.exp)} is not in the future`);
  }
  if (claims.exp > now + MAX_VAPID_LIFETIME_S) {
    throw new Refusal(401, `vapid exp ${claims.exp} is more than 24 h ahead`);
  }
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) {
    throw new Refusal(401, `vapid sub ${String(claims.sub)} is not a mailto: or https: URL`);
  }
  return claims.sub;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function describePushes(pushes: readonly ReceivedPush[]): string {
  if (pushes.length === 0) return 'no push arrived';
  return `${pushes.length} arrived:\n${pushes
    .map((p) => `  ${p.endpoint} ttl=${p.ttl} ${p.payload.slice(0, 200)}`)
    .join('\n')}`;
}

/**
 * `tls: false` serves plain HTTP: Parley sends its pushes itself (web-push builds the request),
 * so with ALLOW_PRIVATE_ENDPOINTS it can reach an http:// test endpoint; web-push's own
 * sendNotification needs HTTPS.
 */
export async function startPushService(
  opts: { vapidPublicKey?: string; tls?: boolean } = {},
): Promise<PushService> {
  const expectedKey =
    opts.vapidPublicKey === undefined ? undefined : Buffer.from(opts.vapidPublicKey, 'base64url');
  const { cert, key } = selfSignedCert({ commonName: 'parley test push service' });
  const subscriptions = new Map<string, Subscription>(); // by path
  const attempts: PushAttempt[] = [];
  const rejected: RejectedPush[] = [];
  const arrived = arrivals<ReceivedPush>((all) => {
    const refused = rejected.map((r) => `  ${r.status} ${r.reason}`).join('\n');
    return (
      `${describePushes(all)}\n${attempts.length} request(s)` +
      (refused ? `, refused:\n${refused}` : '')
    );
  });
  const pushes = arrived.items;
  let origin = '';

  function find(endpoint: string): Subscription {
    const sub = subscriptions.get(new URL(endpoint).pathname);
    if (!sub || sub.endpoint !== endpoint)
      throw new Error(`not an endpoint of this service: ${endpoint}`);
    return sub;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const endpoint = `${origin}${path}`;
    const receivedAt = Date.now();
    const answer = (status: number, text = '', headers: Record<string, string> = {}): void => {
      if (path.startsWith('/push/')) attempts.push({ endpoint, status, receivedAt });
      res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(text);
    };

    const body = await readBody(req);
    const sub = subscriptions.get(path);
    if (!sub) return answer(404, 'no such subscription');
    if (req.method !== 'POST') return answer(405, 'POST a push message', { allow: 'POST' });
    if (sub.expired) return answer(410, 'subscription expired');
    const scripted = sub.script.shift();
    if (scripted !== undefined && (scripted < 200 || scripted > 299)) {
      return answer(scripted, `scripted ${scripted}`);
    }

    try {
      const vapidSub = checkVapid(header(req, 'authorization'), origin, expectedKey);

      const ttlHeader = header(req, 'ttl');
      if (ttlHeader === undefined || !/^\d+$/.test(ttlHeader)) {
        throw new Refusal(400, `TTL header missing or not a non-negative integer: ${ttlHeader}`);
      }
      const urgency = (header(req, 'urgency') ?? 'normal') as ReceivedPush['urgency'];
      if (!URGENCIES.includes(urgency)) throw new Refusal(400, `bad Urgency: ${urgency}`);
      const topic = header(req, 'topic');
      if (topic !== undefined && (topic.length > 32 || !BASE64URL.test(topic))) {
        throw new Refusal(400, `bad Topic (at most 32 base64url characters): ${topic}`);
      }

      let payload = '';
      if (body.length > 0) {
        if (body.length > MAX_BODY_BYTES) {
          throw new Refusal(413, `body of ${body.length} bytes, more than ${MAX_BODY_BYTES}`);
        }
        const encoding = header(req, 'content-encoding');
        if (encoding !== 'aes128gcm') {
          throw new Refusal(415, `Content-Encoding ${encoding}, not aes128gcm`);
        }
        try {
          payload = ece
            .decrypt(body, { version: 'aes128gcm', privateKey: sub.ecdh, authSecret: sub.auth })
            .toString('utf8');
        } catch (err) {
          throw new Refusal(400, `body does not decrypt: ${(err as Error).message}`);
        }
      }
      let json: unknown;
      try {
        json = payload === '' ? undefined : JSON.parse(payload);
      } catch {
        json = undefined;
      }

      arrived.add({
        endpoint,
        payload,
        json,
        ttl: Number(ttlHeader),
        urgency,
        topic,
        vapidSub,
        receivedAt,
      });
      answer(scripted ?? 201, '', {
        location: `${origin}/message/${randomBytes(12).toString('base64url')}`,
      });
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      rejected.push({ endpoint, status: err.status, reason: err.message, receivedAt });
      answer(err.status, err.message);
    }
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  };
  const tls = opts.tls ?? true;
  const server = tls ? https.createServer({ cert, key }, onRequest) : http.createServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  origin = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new https.Agent({ ca: cert });

  return {
    origin,
    ca: cert,
    agent,
    attempts,
    rejected,

    createSubscription() {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const path = `/push/${randomBytes(16).toString('base64url')}`;
      const p256dh = ecdh.getPublicKey('base64url'); // uncompressed: always 65 bytes
      const auth = randomBytes(16).toString('base64url');
      const endpoint = `${origin}${path}`;
      subscriptions.set(path, { endpoint, ecdh, auth, expired: false, script: [] });
      return { endpoint, p256dh, auth, keys: { p256dh, auth } };
    },

    expire(endpoint) {
      find(endpoint).expired = true;
    },

    respondWith(endpoint, statuses) {
      find(endpoint).script.push(...statuses);
    },

    received(endpoint) {
      return pushes.filter((p) => endpoint === undefined || p.endpoint === endpoint);
    },

    waitFor(predicate, timeoutMs = 5000) {
      return arrived
        .waitFor(predicate, timeoutMs)
        .catch((err: Error) => Promise.reject(new Error(`push service: ${err.message}`)));
    },

    async close() {
      agent.destroy();
      if (!server.listening) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
