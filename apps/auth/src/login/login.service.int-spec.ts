import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AccessTokenVerifier } from '@cloudstore/access-tokens';
import { type AuditEvent } from '@cloudstore/jobs';
import { newOrigin, newUserInput, waitFor } from '@cloudstore/testing';
import type { Queue } from 'bullmq';
import { PasswordHasher } from '../users/password-hasher';
import type { UserEntity } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { LoginService } from './login.service';
import { MAX_OTP_ATTEMPTS, sessionHandle } from './login-sessions.store';
import { type AuthTestApplication, startAuthTestApplication } from '../auth-test-application.test-helper';

const PASSWORD = 'Correct-Horse-42!';
const LOGIN_MAX_ATTEMPTS = 3;
const OTP_MAILS_PER_ACCOUNT = 3;

/** Two-step login against the real database, Redis (sessions, limits) and the mail outbox. */
describe(LoginService.name, () => {
  let test: AuthTestApplication;
  let auditQueue: Queue<AuditEvent>;
  let outbox: string;
  let users: UsersRepository;
  let passwordHash: string;
  let sut: LoginService;

  beforeAll(async () => {
    test = await startAuthTestApplication({
      LOGIN_MAX_ATTEMPTS: String(LOGIN_MAX_ATTEMPTS),
      LOGIN_WINDOW_SECONDS: '600',
      OTP_MAILS_PER_ACCOUNT: String(OTP_MAILS_PER_ACCOUNT),
    });
    outbox = test.config.OTP_OUTBOX_DIR;
    auditQueue = test.auditQueue;
    users = test.app.get(UsersRepository);
    passwordHash = await test.app.get(PasswordHasher).hash(PASSWORD);
    sut = test.app.get(LoginService);
  });

  afterAll(async () => {
    await test.close();
  });

  async function newUser(): Promise<UserEntity> {
    const { username, email } = newUserInput();
    return users.insert({ username, usernameKey: username, email, emailKey: email, passwordHash, role: 'basic' });
  }

  /** The codes mailed to `email`, oldest first. */
  async function mailedCodes(email: string): Promise<string[]> {
    const files = (await readdir(outbox).catch(() => [] as string[])).sort();
    const codes: string[] = [];
    for (const file of files) {
      const text = await readFile(join(outbox, file), 'utf8');
      const code = /sign-in code is (\d{6})/.exec(text)?.[1];
      if (text.includes(`To: ${email}`) && code) codes.push(code);
    }
    return codes;
  }

  async function auditedFor(userId: string): Promise<string[]> {
    const jobs = await auditQueue.getJobs(['waiting', 'delayed', 'completed', 'failed', 'active']);
    return jobs
      .filter((j) => j.data.userId === userId)
      .sort((a, b) => a.timestamp - b.timestamp)
      .map((j) => `${j.data.operation}/${j.data.status}${j.data.errorCode ? `/${j.data.errorCode}` : ''}`);
  }

  it('signs in with the password, then the mailed code, once', async () => {
    const user = await newUser();
    const origin = newOrigin();
    const challenge = await sut.start(user.email.toUpperCase(), PASSWORD, origin);
    expect(challenge).toMatchObject({ otpMethod: 'email', otpExpiresAt: expect.any(Number) });
    const [code] = await mailedCodes(user.email);
    const pair = await sut.verify(challenge.sessionId, code, origin);
    expect(await test.app.get(AccessTokenVerifier).verify(pair.accessToken.token)).toMatchObject({ userId: user.id });
    await expect(sut.verify(challenge.sessionId, code, origin)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    expect(await auditedFor(user.id)).toEqual(['auth.login_password/success', 'auth.login/success']);
  });

  it('answers an unknown user, a wrong password and a deactivated account alike', async () => {
    const user = await newUser();
    const inactive = await newUser();
    await users.update(inactive.id, { active: false });
    const errors = await Promise.all([
      sut.start('nobody-at-all', PASSWORD, newOrigin()).catch((e: unknown) => e),
      sut.start(user.username, 'Wrong-Password-1!', newOrigin()).catch((e: unknown) => e),
      sut.start(inactive.username, PASSWORD, newOrigin()).catch((e: unknown) => e),
    ]);
    expect(errors.map((e) => [(e as { code: string }).code, (e as Error).message])).toEqual(
      Array(3).fill(['INVALID_CREDENTIALS', 'Wrong username, email or password']),
    );
    expect(await mailedCodes(inactive.email)).toEqual([]);
  });

  it('checks at most LOGIN_MAX_ATTEMPTS passwords of an account, however many arrive at once, then locks it for the right one too', async () => {
    const user = await newUser();
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        sut.start(user.username, `Wrong-${i}-Password!`, newOrigin()).catch((e: { code: string }) => e.code),
      ),
    );
    expect(outcomes.filter((c) => c === 'INVALID_CREDENTIALS')).toHaveLength(LOGIN_MAX_ATTEMPTS);
    expect(outcomes.filter((c) => c === 'ACCOUNT_LOCKED')).toHaveLength(8 - LOGIN_MAX_ATTEMPTS);
    await expect(sut.start(user.username, PASSWORD, newOrigin())).rejects.toMatchObject({
      code: 'ACCOUNT_LOCKED',
      retryAfterSeconds: expect.any(Number),
    });
    expect(await auditedFor(user.id)).toContain('auth.lockout/failure/ACCOUNT_LOCKED');
  });

  it('does not count right passwords against the account', async () => {
    const user = await newUser();
    for (let i = 0; i < LOGIN_MAX_ATTEMPTS; i += 1) await sut.start(user.username, PASSWORD, newOrigin());
    await expect(sut.start(user.username, 'Wrong-Password-1!', newOrigin())).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
  });

  it(`compares at most ${MAX_OTP_ATTEMPTS} codes of a session, however many arrive at once, then ends it`, async () => {
    const user = await newUser();
    const origin = newOrigin();
    const { sessionId } = await sut.start(user.username, PASSWORD, origin);
    const [code] = await mailedCodes(user.email);
    const wrong = code === '000000' ? '111111' : '000000';
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => sut.verify(sessionId, wrong, origin).catch((e: { code: string }) => e.code)),
    );
    expect(outcomes.filter((c) => c === 'INVALID_OTP')).toHaveLength(MAX_OTP_ATTEMPTS);
    expect(outcomes.filter((c) => c === 'SESSION_NOT_FOUND')).toHaveLength(10 - MAX_OTP_ATTEMPTS);
    await expect(sut.verify(sessionId, code, origin)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
  });

  it('replaces a pending session when the user signs in again', async () => {
    const user = await newUser();
    const first = await sut.start(user.username, PASSWORD, newOrigin());
    const second = await sut.start(user.username, PASSWORD, newOrigin());
    const codes = await waitFor('two mails', async () =>
      (await mailedCodes(user.email)).length === 2 ? mailedCodes(user.email) : undefined,
    );
    await expect(sut.verify(first.sessionId, codes[0], newOrigin())).rejects.toMatchObject({
      code: 'SESSION_NOT_FOUND',
    });
    await expect(sut.verify(second.sessionId, codes[1], newOrigin())).resolves.toMatchObject({
      refreshToken: expect.any(String),
    });
  });

  it('answers a code past its time with OTP_EXPIRED', async () => {
    const user = await newUser();
    const { sessionId } = await sut.start(user.username, PASSWORD, newOrigin());
    const [code] = await mailedCodes(user.email);
    await test.stores.redis.client.hset(
      `${test.stores.redis.keyPrefix}:login:session:${sessionHandle(sessionId)}`,
      'expiresAt',
      '1',
    );
    await expect(sut.verify(sessionId, code, newOrigin())).rejects.toMatchObject({ code: 'OTP_EXPIRED' });
  });

  it('mails at most OTP_MAILS_PER_ACCOUNT codes to an account per window', async () => {
    const user = await newUser();
    for (let i = 0; i < OTP_MAILS_PER_ACCOUNT; i += 1) await sut.start(user.username, PASSWORD, newOrigin());
    await expect(sut.start(user.username, PASSWORD, newOrigin())).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(await mailedCodes(user.email)).toHaveLength(OTP_MAILS_PER_ACCOUNT);
  });
});
