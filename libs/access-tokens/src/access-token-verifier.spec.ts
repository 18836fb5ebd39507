import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { DomainError } from '@cloudstore/contracts';
import { SignJWT } from 'jose';
import { AccessTokenVerifier, type VerificationKey } from './access-token-verifier';
import { ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from './claims';
import type { TokenRevocations } from './token-revocations';

interface SigningKey {
  readonly verification: VerificationKey;
  readonly privateKey: KeyObject;
}

function signingKey(): SigningKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { verification: { keyId: randomUUID(), publicKeyPem }, privateKey };
}

interface Claims {
  readonly sub?: string;
  readonly iat?: number;
  readonly exp?: number;
}

function tokenSignedBy(key: SigningKey, claims: Claims = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const iat = claims.iat ?? now;
  return new SignJWT({ role: 'user', username: 'alice', fid: randomUUID(), iatms: iat * 1000 })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, kid: key.verification.keyId, typ: 'JWT' })
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setSubject(claims.sub ?? randomUUID())
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(claims.exp ?? iat + 300)
    .sign(key.privateKey);
}

/** A JWT with the given header and the claims of a good token, and a signature that proves nothing. */
async function tokenWithHeader(key: SigningKey, header: Record<string, unknown>, signature: string): Promise<string> {
  const [, payload] = (await tokenSignedBy(key)).split('.');
  return `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${payload}.${signature}`;
}

/** The auth service as the gateway reaches it: answers after `release()` is called, or fails. */
class ControlledKeySource {
  calls = 0;
  keys: VerificationKey[] = [];
  failing = false;
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open();
  }

  readonly source = async (): Promise<readonly VerificationKey[]> => {
    this.calls += 1;
    await this.gate;
    if (this.failing) throw new Error('connect ECONNREFUSED 127.0.0.1:50061');
    return this.keys;
  };
}

// Revocations live in Redis, a boundary this unit does not cross: nothing is revoked.
const noRevocations = { isRevoked: () => Promise.resolve(false) } as unknown as TokenRevocations;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

/** Lets every pending verification reach the key source (jose and the verifier await a few times). */
async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe(AccessTokenVerifier.name, () => {
  let keySource: ControlledKeySource;
  let key: SigningKey;
  let sut: AccessTokenVerifier;

  beforeEach(() => {
    keySource = new ControlledKeySource();
    key = signingKey();
    keySource.keys = [key.verification];
    sut = new AccessTokenVerifier(keySource.source, noRevocations);
  });

  it('accepts 50 concurrent tokens at a cold start, loading the keys once', async () => {
    const tokens = await Promise.all(Array.from({ length: 50 }, () => tokenSignedBy(key)));
    keySource.hold();
    const results = tokens.map((token) => codeOf(sut.verify(token)));
    await waitUntil(() => keySource.calls > 0);
    // Let every request reach the key lookup while the slow load is still under way.
    for (let i = 0; i < 20; i += 1) await new Promise((resolve) => setImmediate(resolve));
    keySource.release();

    expect(await Promise.all(results)).toEqual(Array(50).fill('accepted'));
    expect(keySource.calls).toBe(1);
  });

  describe('hostile tokens', () => {
    it('refuses a validly signed token whose subject is not a UUID (TOKEN_INVALID)', async () => {
      for (const sub of ['admin', "1' OR '1'='1", 'a\u0000b', `${randomUUID()}x`]) {
        expect(await codeOf(sut.verify(await tokenSignedBy(key, { sub })))).toBe('TOKEN_INVALID');
      }
    });

    it('refuses a validly signed token that expires in the year 9999 (TOKEN_INVALID)', async () => {
      const exp = Math.floor(Date.UTC(9999, 11, 31) / 1000);
      expect(await codeOf(sut.verify(await tokenSignedBy(key, { exp })))).toBe('TOKEN_INVALID');
    });

    it('refuses a token living longer than the lifetime it was given, and accepts one at exactly it', async () => {
      sut = new AccessTokenVerifier(keySource.source, noRevocations, 3600);
      const iat = Math.floor(Date.now() / 1000);
      expect(await codeOf(sut.verify(await tokenSignedBy(key, { iat, exp: iat + 3601 })))).toBe('TOKEN_INVALID');
      expect(await codeOf(sut.verify(await tokenSignedBy(key, { iat, exp: iat + 3600 })))).toBe('accepted');
    });

    it('refuses a token issued in the future beyond the clock skew', async () => {
      const iat = Math.floor(Date.now() / 1000) + 3600;
      expect(await codeOf(sut.verify(await tokenSignedBy(key, { iat })))).toBe('TOKEN_INVALID');
    });

    it('refuses unsigned tokens, another algorithm, and garbage (TOKEN_INVALID)', async () => {
      const kid = key.verification.keyId;
      const unsigned = await tokenWithHeader(key, { alg: 'none', kid, typ: 'JWT' }, '');
      const hmac = await tokenWithHeader(key, { alg: 'HS256', kid, typ: 'JWT' }, 'c2lnbmF0dXJl');
      for (const token of [unsigned, hmac, 'x', 'a.b.c', '\u0000', `${'a'.repeat(5000)}`]) {
        expect(await codeOf(sut.verify(token))).toBe('TOKEN_INVALID');
      }
    });
  });

  it('refuses a token whose key is still unknown after a completed refresh, without asking again at once', async () => {
    const stranger = signingKey();
    expect(await codeOf(sut.verify(await tokenSignedBy(stranger)))).toBe('TOKEN_INVALID');
    expect(await codeOf(sut.verify(await tokenSignedBy(stranger)))).toBe('TOKEN_INVALID');
    expect(keySource.calls).toBe(1);
    expect(await codeOf(sut.verify(await tokenSignedBy(key)))).toBe('accepted');
  });

  it('answers SERVICE_UNAVAILABLE, not TOKEN_INVALID, when the keys cannot be loaded, and tries again next time', async () => {
    keySource.failing = true;
    const token = await tokenSignedBy(key);
    const failed = await Promise.all(Array.from({ length: 5 }, () => codeOf(sut.verify(token))));
    expect(failed).toEqual(Array(5).fill('SERVICE_UNAVAILABLE'));

    keySource.failing = false;
    expect(await codeOf(sut.verify(token))).toBe('accepted');
  });

  it('picks up a key that appeared after the last refresh once the refresh interval has passed', async () => {
    const rotated = signingKey();
    expect(await codeOf(sut.verify(await tokenSignedBy(key)))).toBe('accepted');
    keySource.keys = [rotated.verification, key.verification];
    jest.useFakeTimers({ now: Date.now() + 11_000, doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      expect(await codeOf(sut.verify(await tokenSignedBy(rotated)))).toBe('accepted');
    } finally {
      jest.useRealTimers();
    }
    expect(keySource.calls).toBe(2);
  });
});
