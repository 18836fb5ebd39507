import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@cloudstore/testing';
import { decodeProtectedHeader } from 'jose';
import { adminGrpcClient, bearer } from './support/api-clients';
import { signInAs, signUp, type TestUser } from './support/accounts';
import { TestCluster } from './support/test-cluster';

const ACCESS_TOKEN_TTL_SECONDS = 12;
const ADMIN = { username: 'keys_admin', email: 'keys-admin@example.com', password: 'Admin-Passw0rd-2026!' };
const KEYS_ROTATE_CLI = join(__dirname, '../../dist/apps/auth/src/tokens/keys-rotate-cli.js');

interface KeyRow {
  key_id: string;
  private_key_pem: string | null;
  verify_until: Date | null;
  retired_at: Date | null;
}

/**
 * Signing key rotation through the real cluster, with short-lived access tokens: tokens of the old
 * key keep working until they expire, new ones are signed by the new key, and once the old key's
 * verification has ended the gateway has forgotten it (TOKEN_INVALID) and auth has retired it.
 */
describe('signing key rotation', () => {
  const env = TestCluster.perFile({ ACCESS_TOKEN_TTL_SECONDS: String(ACCESS_TOKEN_TTL_SECONDS) }, { admin: ADMIN });
  let admin: ReturnType<typeof adminGrpcClient>;

  beforeAll(() => {
    admin = adminGrpcClient(`127.0.0.1:${env.cluster.ports.grpc}`);
  });

  afterAll(() => {
    admin?.close();
  });

  /** The code a request with `token` gets: 'ok', or the error code. */
  async function codeWith(token: string): Promise<string> {
    const res = await env.rest.get('/v1/auth/me', token);
    return res.status === 200 ? 'ok' : String(res.body['code']);
  }

  function keyOf(token: string): string | undefined {
    return decodeProtectedHeader(token).kid;
  }

  async function keyRows(): Promise<KeyRow[]> {
    return (await env.pg.query<KeyRow>(`SELECT key_id, private_key_pem, verify_until, retired_at FROM auth.signing_keys`)).rows;
  }

  async function audited(operation: string): Promise<{ user_id: string | null; details: Record<string, string> }[]> {
    const rows = await env.pg.query<{ user_id: string | null; details: Record<string, string> }>(
      `SELECT user_id, details FROM metadata.audit_log WHERE operation = $1 ORDER BY occurred_at`,
      [operation],
    );
    return rows.rows;
  }

  it('lets only admins rotate (REST and gRPC)', async () => {
    const user = await signUp(env.rest, env.smtp, 'basic');
    const rest = await env.rest.post('/v1/admin/keys/rotate', {}, user.token);
    expect(rest).toMatchObject({ status: 403, body: { code: 'PERMISSION_DENIED' } });
    await expect(admin.call('rotateSigningKeys', { authToken: user.token })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(admin.call('rotateSigningKeys', { authToken: '' })).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    expect((await keyRows()).filter((k) => k.verify_until === null)).toHaveLength(1);
  });

  it('keeps old tokens working until they expire, signs new ones with the new key, then forgets and retires the old key', async () => {
    // The admin first, so that the user's token is as young as can be at the rotation.
    const administrator = await signInAs(env.rest, env.smtp, ADMIN);
    const user: TestUser = await signUp(env.rest, env.smtp, 'rotation');
    const oldKey = keyOf(user.token);
    expect(await codeWith(user.token)).toBe('ok');

    const rotated = await env.rest.post<{
      key_id: string;
      created_at: number;
      retiring: { key_id: string; verify_until: number }[];
    }>('/v1/admin/keys/rotate', {}, administrator.token);
    expect(rotated.status).toBe(200);
    expect(rotated.body.key_id).not.toBe(oldKey);
    expect(rotated.body.retiring).toEqual([{ key_id: oldKey, verify_until: expect.any(Number) }]);
    const verifyUntilMs = (rotated.body.retiring[0]?.verify_until ?? 0) * 1000;

    // The old token still works; a new sign-in is signed by the new key, and the gateway takes it at once.
    expect(await codeWith(user.token)).toBe('ok');
    const again = await signInAs(env.rest, env.smtp, user);
    expect(keyOf(again.token)).toBe(rotated.body.key_id);
    expect(await codeWith(again.token)).toBe('ok');
    const refreshed = await env.rest.post<{ auth_token: string }>('/v1/auth/refresh', { refresh_token: user.refreshToken });
    expect(keyOf(refreshed.body.auth_token)).toBe(rotated.body.key_id);

    // The old token dies at its own expiry (its key still known), and after the key's end it is unknown.
    await waitFor('the old token to expire', async () => (await codeWith(user.token)) === 'TOKEN_EXPIRED', 20_000);
    expect(Date.now()).toBeLessThan(verifyUntilMs);
    await waitFor('the gateway to forget the old key', async () => (await codeWith(user.token)) === 'TOKEN_INVALID', 20_000);
    expect(Date.now()).toBeGreaterThanOrEqual(verifyUntilMs - 1000);
    await waitFor(
      'auth to retire the old key',
      async () => (await keyRows()).find((k) => k.key_id === oldKey && k.retired_at !== null),
      30_000,
    );
    expect((await keyRows()).find((k) => k.key_id === oldKey)).toMatchObject({ private_key_pem: null });
    // A token of the new key that expired meanwhile is TOKEN_EXPIRED (its key is still known); a new one works.
    expect(await codeWith(again.token)).toBe('TOKEN_EXPIRED');
    expect(await codeWith((await signInAs(env.rest, env.smtp, user)).token)).toBe('ok');

    // No key is stored in plaintext; rotation and retirement are audited.
    const sealedOrErased = (await keyRows()).map(
      (row) => row.private_key_pem?.replace(/^v1\.[0-9a-f]{16}\.[A-Za-z0-9_-]+$/, 'sealed') ?? 'erased',
    );
    expect(sealedOrErased.filter((state) => state !== 'sealed' && state !== 'erased')).toEqual([]);
    await waitFor(
      'the rotation and retirement audited',
      async () => (await audited('auth.signing_key_retire')).some((e) => e.details['keyId'] === oldKey),
      20_000,
    );
    expect((await audited('auth.signing_key_rotate')).filter((e) => e.details['keyId'] === rotated.body.key_id)).toEqual([
      { user_id: administrator.userId, details: { keyId: rotated.body.key_id, retiring: oldKey } },
    ]);
    expect((await audited('auth.signing_key_retire')).filter((e) => e.details['keyId'] === oldKey)).toEqual([
      { user_id: null, details: { keyId: oldKey } },
    ]);
  }, 90_000);

  it('rotates through the gRPC AdminService and `npm run keys:rotate` as well', async () => {
    const administrator = await signInAs(env.rest, env.smtp, ADMIN);
    const before = keyOf(administrator.token);
    const viaGrpc = await admin.call('rotateSigningKeys', { authToken: '' }, { metadata: bearer(administrator.token) });
    expect(viaGrpc).toMatchObject({ success: true, retiring: [{ keyId: before, verifyUntil: expect.any(Number) }] });

    const { stdout } = await promisify(execFile)(process.execPath, [KEYS_ROTATE_CLI], { env: env.cluster.env });
    const cliKey = /token signing key (\S+) signs from now on/.exec(stdout)?.[1];
    expect(stdout).toContain(`${viaGrpc.keyId} verifies until`);
    const user = await signUp(env.rest, env.smtp, 'after_cli');
    expect(keyOf(user.token)).toBe(cliKey);
    expect(await codeWith(user.token)).toBe('ok');
    await waitFor('the CLI rotation audited', async () =>
      (await audited('auth.signing_key_rotate')).find((e) => e.details['keyId'] === cliKey && e.details['operator']),
    );
  }, 60_000);
});
