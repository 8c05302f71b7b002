// A throw-away self-signed TLS certificate made with node:crypto alone (no openssl binary, no
// package): an ECDSA P-256 key and an X.509 v3 certificate for loopback (IP 127.0.0.1 and DNS
// localhost), to be trusted by passing `cert` as `ca` to the client (https.Agent, tls.connect).
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIPv4 } from 'node:net';

export interface SelfSignedCert {
  /** The certificate, PEM. Also its own issuer: give it to clients as `ca`. */
  cert: string;
  /** Its private key, PEM (PKCS#8). */
  key: string;
}

// --- Just enough DER (X.690) for one certificate ---------------------------------------------

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else if (n < 0x100) len = Buffer.from([0x81, n]);
  else len = Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const seq = (...items: Buffer[]): Buffer => der(0x30, ...items);

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

/** A positive INTEGER from unsigned big-endian bytes. */
function uint(bytes: Buffer): Buffer {
  return der(0x02, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

/** UTCTime (years 1950–2049, which is all a test certificate needs). */
function utcTime(date: Date): Buffer {
  const iso = date.toISOString(); // 2024-05-06T07:08:09.000Z
  const text = iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10);
  return der(
    0x17,
    Buffer.from(`${text}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`),
  );
}

const name = (commonName: string): Buffer =>
  seq(der(0x31, seq(oid('2.5.4.3'), der(0x0c, Buffer.from(commonName, 'utf8')))));

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [der(0x01, Buffer.from([0xff]))] : []), der(0x04, value));
}

// ---------------------------------------------------------------------------------------------

/** A new key and certificate, valid from a day ago for `days` (default 30) days. */
export function selfSignedCert(
  opts: { commonName?: string; ips?: string[]; dnsNames?: string[]; days?: number } = {},
): SelfSignedCert {
  const { commonName = 'parley test', ips = ['127.0.0.1'], dnsNames = ['localhost'] } = opts;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const now = Date.now();
  const day = 24 * 60 * 60 * 1000;

  const altNames = [
    ...dnsNames.map((dns) => der(0x82, Buffer.from(dns, 'ascii'))),
    ...ips.map((ip) => {
      if (!isIPv4(ip)) throw new Error(`selfSignedCert: only IPv4 addresses, not ${ip}`);
      return der(0x87, Buffer.from(ip.split('.').map(Number)));
    }),
  ];
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;

  const tbs = seq(
    der(0xa0, uint(Buffer.from([2]))), // v3
    uint(serial),
    ecdsaWithSha256,
    name(commonName),
    seq(utcTime(new Date(now - day)), utcTime(new Date(now + (opts.days ?? 30) * day))),
    name(commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
    der(
      0xa3,
      seq(
        extension('2.5.29.19', true, seq(der(0x01, Buffer.from([0xff])))), // basicConstraints CA
        extension('2.5.29.17', false, seq(...altNames)), // subjectAltName
      ),
    ),
  );
  const signature = sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value
  const certDer = seq(tbs, ecdsaWithSha256, der(0x03, Buffer.from([0]), signature));

  const base64 = certDer.toString('base64').replace(/.{1,64}/g, '$&\n');
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${base64}-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
