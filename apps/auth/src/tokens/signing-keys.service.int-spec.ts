import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { AccessTokenVerifier, TokenRevocations } from '@cloudstore/access-tokens';
import { type AuditEvent } from '@cloudstore/jobs';
import { newUserInput, waitFor } from '@cloudstore/testing';
import { decodeProtectedHeader } from 'jose';
import { AuthSecrets } from '../secrets/auth-secrets';
import type { UserEntity } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { ROTATION_GRACE_SECONDS, SigningKeysService } from './signing-keys.service';
import { TokenIssuer } from './token-issuer.service';
import { type AuthTestApplication, startAuthTestApplication } from '../auth-test-application.test-helper';

const ACCESS_TOKEN_TTL_SECONDS = 3;
/** The sign-in the test tokens belong to, and its end (far enough off not to cap them). */
const FAMILY_ID = randomUUID();
const SIGN_IN_ENDS_AT = Math.floor(Date.now() / 1000) + 86_400;

interface KeyRow {
  key_id: string;
  private_key_pem: string | null;
  verify_until: Date | null;
  retired_at: Date | null;
}

/** Token signing keys at rest and their rotation, against the real database, Redis and audit queue. */
describe(SigningKeysService.name, () => {
  let test: AuthTestApplication;
  let issuer: TokenIssuer;
  let user: UserEntity;
  let sut: SigningKeysService;

  beforeAll(async () => {
    test = await startAuthTestApplication({ ACCESS_TOKEN_TTL_SECONDS: String(ACCESS_TOKEN_TTL_SECONDS) });
    issuer = test.app.get(TokenIssuer);
    sut = test.app.get(SigningKeysService);
    const { username, email } = newUserInput();
    user = await test.app
      .get(UsersRepository)
      .insert({ username, usernameKey: username, email, emailKey: email, passwordHash: 'x', role: 'basic' });
  });

  afterAll(async () => {
    await test.close();
  });

  function keyRows(): Promise<KeyRow[]> {
    return test.stores.dataSource.query<KeyRow[]>(
      `SELECT key_id, private_key_pem, verify_until, retired_at FROM auth.signing_keys ORDER BY created_at`,
    );
  }

  /** A verifier as the gateway has one: it loads the key set from auth and keeps it. */
  function gatewayVerifier(): AccessTokenVerifier {
    return new AccessTokenVerifier(() => sut.verificationKeys(), test.app.get(TokenRevocations));
  }

  async function codeOf(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
      return 'accepted';
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    }
  }

  async function audited(operation: string): Promise<AuditEvent[]> {
    const jobs = await test.auditQueue.getJobs(['waiting', 'delayed', 'completed', 'failed', 'active']);
    return jobs.map((j) => j.data).filter((e) => e.operation === operation);
  }

  it('keeps every private key sealed under the master key: no row holds a PEM', async () => {
    // Keys retired by another test have no private half left at all.
    const rows = (await keyRows()).filter((row) => row.retired_at === null);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.private_key_pem).toMatch(/^v1\.[0-9a-f]{16}\.[A-Za-z0-9_-]+$/);
      expect(row.private_key_pem).not.toContain('PRIVATE KEY');
      expect(test.app.get(AuthSecrets).signingKeys.open(row.private_key_pem ?? '', row.key_id)).toContain('BEGIN PRIVATE KEY');
    }
  });

  it('seals a key stored in plaintext before sealing existed, once, and it still signs', async () => {
    const [row] = (await keyRows()).filter((r) => r.verify_until === null);
    if (!row?.private_key_pem) throw new Error('no signing key');
    const pem = test.app.get(AuthSecrets).signingKeys.open(row.private_key_pem, row.key_id);
    await test.stores.dataSource.query(`UPDATE auth.signing_keys SET private_key_pem = $2 WHERE key_id = $1`, [row.key_id, pem]);
    expect([await sut.sealPlaintextKeys(), await sut.sealPlaintextKeys()]).toEqual([1, 0]);
    const [after] = (await keyRows()).filter((r) => r.key_id === row.key_id);
    expect(after?.private_key_pem).toMatch(/^v1\./);
    expect(test.app.get(AuthSecrets).signingKeys.open(after?.private_key_pem ?? '', row.key_id)).toBe(pem);
    const token = await issuer.issueAccessToken(user, FAMILY_ID, SIGN_IN_ENDS_AT);
    expect(decodeProtectedHeader(token.token).kid).toBe(row.key_id);
    expect(await codeOf(gatewayVerifier().verify(token.token))).toBe('accepted');
  });

  it('rotates: the new key signs at once, the old one verifies until its tokens expired, then is retired and forgotten', async () => {
    const gateway = gatewayVerifier();
    const before = await issuer.issueAccessToken(user, FAMILY_ID, SIGN_IN_ENDS_AT);
    const oldKeyId = decodeProtectedHeader(before.token).kid;
    expect(await codeOf(gateway.verify(before.token))).toBe('accepted');

    const rotation = await sut.rotate({ operator: 'int-spec' });
    expect(rotation.retiring.map((k) => k.keyId)).toEqual([oldKeyId]);
    const after = await issuer.issueAccessToken(user, FAMILY_ID, SIGN_IN_ENDS_AT);
    expect(decodeProtectedHeader(after.token).kid).toBe(rotation.keyId);
    expect(await codeOf(gateway.verify(after.token))).toBe('accepted');
    const verifyUntil = rotation.retiring[0]?.verifyUntil.getTime() ?? 0;
    expect(verifyUntil - Date.now()).toBeLessThanOrEqual((ACCESS_TOKEN_TTL_SECONDS + ROTATION_GRACE_SECONDS) * 1000);
    expect(verifyUntil).toBeGreaterThanOrEqual(before.expiresAt * 1000);
    expect((await sut.verificationKeys()).find((k) => k.keyId === oldKeyId)?.notAfter).toBe(Math.floor(verifyUntil / 1000));

    // Expired but its key still known: TOKEN_EXPIRED.
    await waitFor('the old token to expire', async () => (await codeOf(gateway.verify(before.token))) === 'TOKEN_EXPIRED');
    expect(Date.now()).toBeLessThan(verifyUntil);
    // Past the old key's verification: the gateway forgot it, and the scheduled step retires it.
    await waitFor('the old key to be forgotten', async () => (await codeOf(gateway.verify(before.token))) === 'TOKEN_INVALID');
    expect(Date.now()).toBeGreaterThanOrEqual(Math.floor(verifyUntil / 1000) * 1000);
    await waitFor('auth to leave the old key out of its key set', async () =>
      (await sut.verificationKeys()).every((k) => k.keyId === rotation.keyId),
    );
    // The scheduled step, run now rather than at its next turn (which may have come already): once only.
    await sut.retireExpiredKeys();
    expect(await sut.retireExpiredKeys()).not.toContain(oldKeyId);
    const retired = (await keyRows()).find((r) => r.key_id === oldKeyId);
    expect(retired).toMatchObject({ private_key_pem: null, retired_at: expect.any(Date) });

    expect((await audited('auth.signing_key_rotate')).filter((e) => e.details?.['keyId'] === rotation.keyId)).toEqual([
      expect.objectContaining({
        status: 'success',
        details: { keyId: rotation.keyId, retiring: oldKeyId, operator: 'int-spec' },
      }),
    ]);
    expect((await audited('auth.signing_key_retire')).filter((e) => e.details?.['keyId'] === oldKeyId)).toEqual([
      expect.objectContaining({ status: 'success', details: { keyId: oldKeyId } }),
    ]);
  }, 30_000);

  it('leaves exactly one key signing when rotations race', async () => {
    await Promise.all([sut.rotate({ operator: 'a' }), sut.rotate({ operator: 'b' }), sut.rotate({ operator: 'c' })]);
    const signing = (await keyRows()).filter((r) => r.verify_until === null && r.retired_at === null);
    expect(signing).toHaveLength(1);
    const token = await issuer.issueAccessToken(user, FAMILY_ID, SIGN_IN_ENDS_AT);
    expect(decodeProtectedHeader(token.token).kid).toBe(signing[0]?.key_id);
  });
});

describe(`${SigningKeysService.name} with TOKEN_SIGNING_KEY`, () => {
  let test: AuthTestApplication;

  beforeAll(async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    test = await startAuthTestApplication({ TOKEN_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
  });

  afterAll(async () => {
    await test.close();
  });

  it('refuses to rotate a key it does not own, and stores none', async () => {
    await expect(test.app.get(SigningKeysService).rotate({ operator: 'int-spec' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(await test.stores.dataSource.query(`SELECT key_id FROM auth.signing_keys`)).toEqual([]);
  });
});
