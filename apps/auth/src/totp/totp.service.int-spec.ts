import { createHash } from 'node:crypto';
import type { Caller } from '@cloudstore/access-tokens';
import { newOrigin, newUserInput } from '@cloudstore/testing';
import { generate } from 'otplib';
import { BruteForceProtection } from '../rate-limits/brute-force-protection.service';
import { PasswordHasher } from '../users/password-hasher';
import { UsersRepository } from '../users/users.repository';
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

  it('enrols with a confirming code and keeps only hashes of the recovery codes', async () => {
    const caller = await newCaller();
    const { secret, recoveryCodes } = await enrolled(caller);
    expect(secret).toMatch(/^[A-Z2-7]+$/);
    expect(recoveryCodes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(recoveryCodes).size).toBe(RECOVERY_CODE_COUNT);
    const stored = await test.stores.dataSource.query<{ code_hash: string }[]>(
      `SELECT code_hash FROM auth.recovery_codes WHERE user_id = $1`,
      [caller.userId],
    );
    const hashes = recoveryCodes.map((c) => createHash('sha256').update(c.replace(/-/g, '')).digest('hex'));
    expect(stored.map((r) => r.code_hash).sort()).toEqual(hashes.sort());
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
