import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { DomainError } from '@cloudstore/contracts';
import { SignJWT } from 'jose';
import { AccessTokenVerifier, EXPIRED_TOKEN_GRACE_SECONDS, type VerificationKey } from './access-token-verifier';
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

/** The claims of a 300 s token that expired `seconds` ago. */
function expiredFor(seconds: number): Claims {
  const exp = Math.floor(Date.now() / 1000) - seconds;
  return { iat: exp - 300, exp };
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

  it('refuses a token whose key is still unknown after a completed refresh, asking again at most once a second', async () => {
    const stranger = signingKey();
    expect(await codeOf(sut.verify(await tokenSignedBy(stranger)))).toBe('TOKEN_INVALID');
    const startedAt = Date.now();
    const again = await Promise.all(Array.from({ length: 20 }, async () => codeOf(sut.verify(await tokenSignedBy(stranger)))));
    expect(again).toEqual(Array(20).fill('TOKEN_INVALID'));
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(900);
    expect(keySource.calls).toBe(2);
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

  it('picks up a key rotated in right after the last refresh, waiting for the next one rather than refusing', async () => {
    const rotated = signingKey();
    expect(await codeOf(sut.verify(await tokenSignedBy(key)))).toBe('accepted');
    keySource.keys = [rotated.verification, key.verification];
    expect(await codeOf(sut.verify(await tokenSignedBy(rotated)))).toBe('accepted');
    expect(keySource.calls).toBe(2);
  });

  it('forgets a key at its notAfter: its tokens are TOKEN_INVALID from then on, even while the source still lists it', async () => {
    const token = await tokenSignedBy(key);
    keySource.keys = [{ ...key.verification, notAfter: Math.floor(Date.now() / 1000) + 60 }];
    expect(await codeOf(sut.verify(token))).toBe('accepted');
    jest.useFakeTimers({ now: Date.now() + 61_000, doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      expect(await codeOf(sut.verify(token))).toBe('TOKEN_INVALID');
    } finally {
      jest.useRealTimers();
    }
  });

  it('loads a key set older than a minute again in the background, and learns the end of a key it holds', async () => {
    const token = await tokenSignedBy(key);
    expect(await codeOf(sut.verify(token))).toBe('accepted');
    const rotatedAt = Date.now();
    keySource.keys = [{ ...key.verification, notAfter: Math.floor(rotatedAt / 1000) + 90 }];
    jest.useFakeTimers({ now: rotatedAt + 61_000, doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      expect(await codeOf(sut.verify(token))).toBe('accepted');
      await waitUntil(() => keySource.calls === 2);
      jest.setSystemTime(rotatedAt + 91_000);
      expect(await codeOf(sut.verify(token))).toBe('TOKEN_INVALID');
    } finally {
      jest.useRealTimers();
    }
  });

  it('accepts an expired token only when asked to, and then for EXPIRED_TOKEN_GRACE_SECONDS at most', async () => {
    const expiredAnHourAgo = await tokenSignedBy(key, expiredFor(3600));
    expect(await codeOf(sut.verify(expiredAnHourAgo))).toBe('TOKEN_EXPIRED');
    expect(await codeOf(sut.verify(expiredAnHourAgo, { continuation: true }))).toBe('accepted');
    const expiredLongAgo = await tokenSignedBy(key, expiredFor(EXPIRED_TOKEN_GRACE_SECONDS + 60));
    expect(await codeOf(sut.verify(expiredLongAgo, { continuation: true }))).toBe('TOKEN_EXPIRED');
  });

  it('in a continuation, passes over a revocation of the token alone (a renewal), never of its sign-in', async () => {
    const asked: unknown[] = [];
    const revocations = {
      isRevoked: (...args: unknown[]) => {
        asked.push(args[4]);
        return Promise.resolve((args[4] as { spentTokenCounts?: boolean }).spentTokenCounts !== false);
      },
    } as unknown as TokenRevocations;
    sut = new AccessTokenVerifier(keySource.source, revocations);
    const spent = await tokenSignedBy(key);
    expect(await codeOf(sut.verify(spent))).toBe('TOKEN_REVOKED');
    expect(await codeOf(sut.verify(spent, { continuation: true }))).toBe('accepted');
    expect(asked).toEqual([{ spentTokenCounts: true }, { spentTokenCounts: false }]);
  });
});
