import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isIPv4 } from 'node:net';

/*
 * Just enough DER to issue the cluster's certificates with node:crypto alone (ECDSA P-256,
 * SHA-256), so that a bare machine with Node and no openssl can create its dev PKI.
 */

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, ...items);
const set = (...items: Buffer[]) => tlv(0x31, ...items);
const octetString = (bytes: Buffer) => tlv(0x04, bytes);
const bitString = (bytes: Buffer, unusedBits = 0) => tlv(0x03, Buffer.from([unusedBits]), bytes);
const utf8String = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const TRUE = tlv(0x01, Buffer.from([0xff]));

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const groups: number[] = [];
    for (let n = arc; ; n = Math.floor(n / 128)) {
      groups.unshift((n % 128) | (groups.length ? 0x80 : 0));
      if (n < 128) break;
    }
    bytes.push(...groups);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** A positive INTEGER from unsigned big-endian bytes. */
function unsignedInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** UTCTime until 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));
const commonName = (name: string) => sequence(set(sequence(oid('2.5.4.3'), utf8String(name))));
const extension = (id: string, value: Buffer, critical = false) =>
  sequence(oid(id), ...(critical ? [TRUE] : []), octetString(value));

function subjectAltName(uri: string, hosts: readonly string[]): Buffer {
  const names = [tlv(0x86, Buffer.from(uri))];
  for (const host of hosts) {
    names.push(isIPv4(host) ? tlv(0x87, Buffer.from(host.split('.').map(Number))) : tlv(0x82, Buffer.from(host)));
  }
  return sequence(...names);
}

/** A new key and its PEM (PKCS#8). */
export function generateTlsKey(): { key: KeyObject; pem: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { key: privateKey, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

export interface CertificateRequest {
  /** Subject common name. */
  readonly commonName: string;
  /** Key whose public half the certificate carries. */
  readonly key: KeyObject;
  readonly validDays: number;
  /** A CA (may sign certificates, used for nothing else) rather than a service. */
  readonly ca?: boolean;
  /** SAN URI naming the service (`spiffe://cloudstore/<name>`); services only. */
  readonly uri?: string;
  /** DNS names and IPv4 addresses the service is reachable at; services only. */
  readonly hosts?: readonly string[];
  /** Signer; absent for a self-signed CA. */
  readonly issuer?: { readonly commonName: string; readonly key: KeyObject };
}

/** Issues an X.509 v3 certificate, as PEM. */
export function issueCertificate(request: CertificateRequest): string {
  const spki = createPublicKey(request.key).export({ type: 'spki', format: 'der' });
  const keyId = createHash('sha1').update(spki).digest();
  const issuer = request.issuer ?? { commonName: request.commonName, key: request.key };
  const issuerKeyId = createHash('sha1')
    .update(createPublicKey(issuer.key).export({ type: 'spki', format: 'der' }))
    .digest();
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01;
  const notBefore = new Date(Date.now() - 5 * 60_000);
  const notAfter = new Date(Date.now() + request.validDays * 86_400_000);

  const extensions = request.ca
    ? [
        extension('2.5.29.19', sequence(TRUE), true),
        // keyCertSign and cRLSign
        extension('2.5.29.15', bitString(Buffer.from([0x06]), 1), true),
        extension('2.5.29.14', octetString(keyId)),
      ]
    : [
        extension('2.5.29.19', sequence(), true),
        // digitalSignature
        extension('2.5.29.15', bitString(Buffer.from([0x80]), 7), true),
        // serverAuth and clientAuth: every service is both
        extension('2.5.29.37', sequence(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))),
        extension('2.5.29.17', subjectAltName(request.uri ?? '', request.hosts ?? [])),
        extension('2.5.29.14', octetString(keyId)),
        extension('2.5.29.35', sequence(tlv(0x80, issuerKeyId))),
      ];
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    unsignedInteger(serial),
    ECDSA_WITH_SHA256,
    commonName(issuer.commonName),
    sequence(time(notBefore), time(notAfter)),
    commonName(request.commonName),
    spki,
    tlv(0xa3, sequence(...extensions)),
  );
  const der = sequence(tbs, ECDSA_WITH_SHA256, bitString(sign('sha256', tbs, issuer.key)));
  const base64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${base64}-----END CERTIFICATE-----\n`;
}
