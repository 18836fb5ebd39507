import { createHash } from 'node:crypto';
import type { Caller } from '@cloudstore/access-tokens';
import { newOrigin, newUserInput } from '@cloudstore/testing';
import { generate } from 'otplib';
import { SealBrokenError } from '@cloudstore/master-key';
import { BruteForceProtection } from '../rate-limits/brute-force-protection.service';
import { PasswordHasher } from '../users/password-hasher';
import { UsersRepository } from '../users/users.repository';
import { TotpSecrets } from './totp-secrets';
import { RECOVERY_CODE_COUNT, TotpService } from './totp.service';
import { type AuthTestApplication, startAuthTestApplication } from '../auth-test-application.test-helper';

const LOGIN_MAX_ATTEMPTS = 3;
const PASSWORD = 'Correct-Horse-42!';

/** Authenticator apps against the real database and Redis: enrolment, codes once, recovery codes, limits. */
describe(TotpService.name, () => {
  let test: AuthTestApplication;
  let users: UsersRepository;
  let sut: TotpService;
  let passwordHash: string;

  beforeAll(async () => {
    test = await startAuthTestApplication({ LOGIN_MAX_ATTEMPTS: String(LOGIN_MAX_ATTEMPTS) });
    users = test.app.get(UsersRepository);
    sut = test.app.get(TotpService);
    passwordHash = await test.app.get(PasswordHasher).hash(PASSWORD);
  });

  afterAll(async () => {
    await test.close();
  });

  async function newCaller(): Promise<Caller> {
    const { username, email } = newUserInput();
    const user = await users.insert({
      username,
      usernameKey: username,
      email,
      emailKey: email,
      passwordHash,
      role: 'basic',
    });
    const now = Date.now();
    return {
      userId: user.id,
      username,
      role: 'basic',
      tokenId: 't',
      familyId: 'f',
      issuedAt: Math.floor(now / 1000),
      expiresAt: Math.floor(now / 1000) + 60,
      issuedAtMs: now,
    };
  }

  /** Enrolled and confirmed: the secret and the recovery codes. */
  async function enrolled(caller: Caller): Promise<{ secret: string; recoveryCodes: string[] }> {
    const { secret } = await sut.enroll(caller, PASSWORD, newOrigin());
    const recoveryCodes = await sut.confirm(caller, await generate({ secret }), newOrigin());
    return { secret, recoveryCodes };
  }

  /** A code of the next time step: the confirming code's step is spent. */
  function nextCode(secret: string): Promise<string> {
    return generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
  }

  async function withSecrets(userId: string) {
    const user = await users.findByIdWithSecrets(userId);
    if (!user) throw new Error('no such user');
    return user;
  }

  it('enrols with a confirming code and keeps only salted hashes of the recovery codes, a salt each', async () => {
    const caller = await newCaller();
    const { secret, recoveryCodes } = await enrolled(caller);
    expect(secret).toMatch(/^[A-Z2-7]+$/);
    expect(recoveryCodes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(recoveryCodes).size).toBe(RECOVERY_CODE_COUNT);
    const stored = await test.stores.dataSource.query<{ salt: string; code_hash: string }[]>(
      `SELECT salt, code_hash FROM auth.recovery_codes WHERE user_id = $1`,
      [caller.userId],
    );
    expect(new Set(stored.map((r) => r.salt)).size).toBe(RECOVERY_CODE_COUNT);
    const sha256 = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
    const expected = recoveryCodes.map((c) => sha256(Buffer.from(c.replace(/-/g, ''))).toString('hex'));
    // No row holds a code's plain SHA-256: each hash is SHA-256(salt ‖ SHA-256(code)), with its own salt.
    expect(stored.map((r) => r.code_hash).filter((h) => expected.includes(h))).toEqual([]);
    const matched = recoveryCodes.filter((c) =>
      stored.some(
        (r) => sha256(Buffer.from(r.salt, 'hex'), sha256(Buffer.from(c.replace(/-/g, '')))).toString('hex') === r.code_hash,
      ),
    );
    expect(matched).toHaveLength(RECOVERY_CODE_COUNT);
    await expect(sut.enroll(caller, PASSWORD, newOrigin())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('needs the password again to enrol and to disable (INVALID_CREDENTIALS, counted like a failed login)', async () => {
    const caller = await newCaller();
    const origin = newOrigin();
    await expect(sut.enroll(caller, 'Wrong-Horse-42!', origin)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(sut.enroll(caller, '', origin)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect((await withSecrets(caller.userId)).totpSecret).toBeNull();
    const { recoveryCodes } = await enrolled(caller);
    await expect(sut.disable(caller, 'Wrong-Horse-42!', recoveryCodes[0], origin)).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
    expect((await withSecrets(caller.userId)).totpEnabledAt).not.toBeNull();
    // LOGIN_MAX_ATTEMPTS wrong passwords from one address: that address is locked, the right password too;
    // an address the owner signed in from is not.
    await expect(sut.disable(caller, PASSWORD, recoveryCodes[0], origin)).rejects.toMatchObject({ code: 'ACCOUNT_LOCKED' });
    const owners = newOrigin();
    await test.app.get(BruteForceProtection).recordSignIn(caller.userId, owners.clientAddress);
    await sut.disable(caller, PASSWORD, recoveryCodes[0], owners);
  });

  it('keeps the TOTP secret sealed in the database: no row holds it in plaintext', async () => {
    const caller = await newCaller();
    const { secret } = await enrolled(caller);
    const [row] = await test.stores.dataSource.query<{ totp_secret: string }[]>(
      `SELECT totp_secret FROM auth.users WHERE id = $1`,
      [caller.userId],
    );
    expect(row?.totp_secret).toMatch(/^v1\.[0-9a-f]{16}\.[A-Za-z0-9_-]+$/);
    expect(row?.totp_secret).not.toContain(secret);
    expect(test.app.get(TotpSecrets).open(caller.userId, row?.totp_secret ?? '')).toBe(secret);
    // Bound to its row: the same sealed value does not open as another user's.
    const other = await newCaller();
    expect(() => test.app.get(TotpSecrets).open(other.userId, row?.totp_secret ?? '')).toThrow(SealBrokenError);
  });

  it('seals a TOTP secret stored in plaintext before sealing existed, once, and its codes keep working', async () => {
    const caller = await newCaller();
    const { secret } = await enrolled(caller);
    await test.stores.dataSource.query(`UPDATE auth.users SET totp_secret = $2 WHERE id = $1`, [caller.userId, secret]);
    const sealer = test.app.get(TotpSecrets);
    const [first, again] = [await sealer.sealPlaintextSecrets(), await sealer.sealPlaintextSecrets()];
    expect([first, again]).toEqual([1, 0]);
    const [row] = await test.stores.dataSource.query<{ totp_secret: string }[]>(
      `SELECT totp_secret FROM auth.users WHERE id = $1`,
      [caller.userId],
    );
    expect(row?.totp_secret).toMatch(/^v1\./);
    expect(await sut.verifyForLogin(await withSecrets(caller.userId), await nextCode(secret))).toBe(true);
  });

  it('accepts a code for login once, even when two logins race with it', async () => {
    const caller = await newCaller();
    const { secret } = await enrolled(caller);
    const code = await nextCode(secret);
    const user = await withSecrets(caller.userId);
    const results = await Promise.all([sut.verifyForLogin(user, code), sut.verifyForLogin(user, code)]);
    expect(results.sort()).toEqual([false, true]);
    expect(await sut.verifyForLogin(await withSecrets(caller.userId), code)).toBe(false);
  });

  it('accepts each recovery code once, in any spelling, even when two logins race with it', async () => {
    const caller = await newCaller();
    const { recoveryCodes } = await enrolled(caller);
    const [first, second] = recoveryCodes as [string, string];
    const user = await withSecrets(caller.userId);
    expect((await Promise.all([sut.verifyForLogin(user, first), sut.verifyForLogin(user, first)])).sort()).toEqual([false, true]);
    expect(await sut.verifyForLogin(user, ` ${second.toLowerCase().replace(/-/g, ' ')} `)).toBe(true);
    expect(await sut.verifyForLogin(user, second)).toBe(false);
  });

  it('refuses a wrong confirming code, and past LOGIN_MAX_ATTEMPTS wrong codes the right one too', async () => {
    const caller = await newCaller();
    const { secret } = await sut.enroll(caller, PASSWORD, newOrigin());
    for (let i = 0; i < LOGIN_MAX_ATTEMPTS; i += 1) {
      await expect(sut.confirm(caller, '000000', newOrigin())).rejects.toMatchObject({ code: 'INVALID_OTP' });
    }
    await expect(sut.confirm(caller, await generate({ secret }), newOrigin())).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect((await withSecrets(caller.userId)).totpEnabledAt).toBeNull();
  });

  it('disables with a current code or a recovery code, removing the secret and the recovery codes', async () => {
    const caller = await newCaller();
    const { recoveryCodes } = await enrolled(caller);
    await expect(sut.disable(caller, PASSWORD, '123', newOrigin())).rejects.toMatchObject({ code: 'INVALID_OTP' });
    await sut.disable(caller, PASSWORD, recoveryCodes[0], newOrigin());
    expect(await withSecrets(caller.userId)).toMatchObject({ totpSecret: null, totpEnabledAt: null });
    const [left] = await test.stores.dataSource.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM auth.recovery_codes WHERE user_id = $1`,
      [caller.userId],
    );
    expect(left?.n).toBe('0');
    await expect(sut.disable(caller, PASSWORD, recoveryCodes[1], newOrigin())).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
