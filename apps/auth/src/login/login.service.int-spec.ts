import argon2 from 'argon2';
import { AccessTokenVerifier } from '@cloudstore/access-tokens';
import { newOrigin, waitFor } from '@cloudstore/testing';
import { generate, generateSecret } from 'otplib';
import type { Origin } from '../audit/audit-trail.service';
import type { TokenPair } from '../tokens/token-issuer.service';
import { PasswordHasher } from '../users/password-hasher';
import type { UserEntity } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { LoginService } from './login.service';
import { MAX_OTP_ATTEMPTS, sessionHandle } from './login-sessions.store';
import { TotpSecrets } from '../totp/totp-secrets';
import {
  auditedFor,
  type AuthTestApplication,
  insertTestUser,
  outboxMailsTo,
  startAuthTestApplication,
} from '../auth-test-application.test-helper';

const PASSWORD = 'Correct-Horse-42!';
const LOGIN_MAX_ATTEMPTS = 3;
const OTP_MAILS_PER_ACCOUNT = 3;
const OTP_MAX_ATTEMPTS_PER_ACCOUNT = 10;
const TOTP_SECRET = generateSecret();
/** Sign-ins with TOTP per user so far: each takes the code of a later step (±1 is accepted, each step once). */
const totpSignIns = new Map<string, number>();

/** Two-step login against the real database, Redis (sessions, limits) and the mail outbox. */
describe(LoginService.name, () => {
  let test: AuthTestApplication;
  let outbox: string;
  let users: UsersRepository;
  let passwordHash: string;
  let sut: LoginService;

  beforeAll(async () => {
    test = await startAuthTestApplication({
      LOGIN_MAX_ATTEMPTS: String(LOGIN_MAX_ATTEMPTS),
      LOGIN_WINDOW_SECONDS: '600',
      OTP_MAILS_PER_ACCOUNT: String(OTP_MAILS_PER_ACCOUNT),
      OTP_MAX_ATTEMPTS_PER_ACCOUNT: String(OTP_MAX_ATTEMPTS_PER_ACCOUNT),
    });
    outbox = test.config.OTP_OUTBOX_DIR;
    users = test.app.get(UsersRepository);
    passwordHash = await test.app.get(PasswordHasher).hash(PASSWORD);
    sut = test.app.get(LoginService);
  });

  afterAll(async () => {
    await test.close();
  });

  function newUser(): Promise<UserEntity> {
    return insertTestUser(test, passwordHash);
  }

  /** A user with an authenticator app (TOTP_SECRET): logins mail nothing, so mail limits play no part. */
  async function newTotpUser(): Promise<UserEntity> {
    const user = await newUser();
    const sealed = test.app.get(TotpSecrets).seal(user.id, TOTP_SECRET);
    await users.setPendingTotpSecret(user.id, sealed);
    await users.enableTotp(user.id, sealed, 0);
    return user;
  }

  /** Password, then a TOTP code of a step not used yet. */
  async function signInWithTotp(user: UserEntity, origin: Origin): Promise<TokenPair> {
    const { sessionId } = await sut.start(user.username, PASSWORD, origin);
    const step = totpSignIns.get(user.id) ?? 0;
    totpSignIns.set(user.id, step + 1);
    const code = await generate({ secret: TOTP_SECRET, epoch: Math.floor(Date.now() / 1000) + 30 * step });
    return sut.verify(sessionId, code, origin);
  }

  function mailsTo(email: string): Promise<string[]> {
    return outboxMailsTo(outbox, email);
  }

  /** The codes mailed to `email`, oldest first. */
  async function mailedCodes(email: string): Promise<string[]> {
    return (await mailsTo(email)).flatMap((text) => /sign-in code is (\d{6})/.exec(text)?.[1] ?? []);
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
    expect(await auditedFor(test, user.id)).toEqual(['auth.login_password/success', 'auth.login/success']);
  });

  it('upgrades a hash cheaper than ARGON2_* at the next login, and keeps a costlier one', async () => {
    const stored = async (id: string) => (await users.findForLogin(id))?.passwordHash ?? '';
    const cheap = await insertTestUser(
      test,
      await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 8192, timeCost: 1 }),
    );
    const costly = await insertTestUser(
      test,
      await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 65536, timeCost: 3 }),
    );
    const costlyHash = await stored(costly.username);

    for (const user of [cheap, costly]) await sut.start(user.username, PASSWORD, newOrigin());

    expect(await stored(cheap.username)).toMatch(
      new RegExp(
        `^\\$argon2id\\$v=19\\$m=${test.config.ARGON2_MEMORY_KIB},p=${test.config.ARGON2_PARALLELISM},t=${test.config.ARGON2_TIME_COST}\\$`,
      ),
    );
    expect(await argon2.verify(await stored(cheap.username), PASSWORD)).toBe(true);
    expect(await stored(costly.username)).toBe(costlyHash);
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

  it('locks the attacked (account, address) pair after LOGIN_MAX_ATTEMPTS wrong passwords, the right one too, with Retry-After', async () => {
    const user = await newUser();
    const attacker = newOrigin();
    for (let i = 0; i < LOGIN_MAX_ATTEMPTS; i += 1) {
      await expect(sut.start(user.username, `Wrong-${i}-Password!`, attacker)).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      });
    }
    await expect(sut.start(user.username, PASSWORD, attacker)).rejects.toMatchObject({
      code: 'ACCOUNT_LOCKED',
      retryAfterSeconds: expect.any(Number),
    });
    expect(await auditedFor(test, user.id)).toContain('auth.lockout/failure/ACCOUNT_LOCKED');
  }, 30_000);

  it('an attacker hammering from one address does not stop the owner signing in from their own', async () => {
    const user = await newTotpUser();
    const owner = newOrigin();
    await signInWithTotp(user, owner);
    const attacker = newOrigin();
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      outcomes.push(
        await sut.start(user.username, `Wrong-${i}-Password!`, attacker).then(
          () => 'ok',
          (e: { code: string }) => e.code,
        ),
      );
    }
    expect(outcomes).toEqual([
      ...Array<string>(LOGIN_MAX_ATTEMPTS).fill('INVALID_CREDENTIALS'),
      ...Array<string>(10 - LOGIN_MAX_ATTEMPTS).fill('ACCOUNT_LOCKED'),
    ]);
    await expect(signInWithTotp(user, owner)).resolves.toMatchObject({ refreshToken: expect.any(String) });
  }, 30_000);

  it('regression (issue 12 item 9): 20 simultaneous logins with the right password all pass, and leave the account unlocked', async () => {
    const user = await newTotpUser();
    const origin = newOrigin();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        sut.start(user.username, PASSWORD, origin).then(
          (challenge) => challenge.otpMethod,
          (e: { code: string }) => e.code,
        ),
      ),
    );
    expect(outcomes).toEqual(Array(20).fill('totp'));
    await expect(sut.start(user.username, 'Wrong-Password-1!', origin)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(signInWithTotp(user, origin)).resolves.toMatchObject({ refreshToken: expect.any(String) });
  }, 60_000);

  it(`caps second-factor guesses per account from all addresses at OTP_MAX_ATTEMPTS_PER_ACCOUNT, ends the session and mails the owner`, async () => {
    const user = await newTotpUser();
    const outcomes: string[] = [];
    // Four sign-ins, each guessed at from five addresses at once: twenty addresses.
    for (let round = 0; round < 4; round += 1) {
      const { sessionId } = await sut.start(user.username, PASSWORD, newOrigin());
      const guesses = await Promise.all(
        Array.from({ length: MAX_OTP_ATTEMPTS }, () =>
          sut.verify(sessionId, '000000', newOrigin()).then(
            () => 'ok',
            (e: { code: string }) => e.code,
          ),
        ),
      );
      outcomes.push(...guesses);
    }
    expect(outcomes.filter((c) => c === 'INVALID_OTP')).toHaveLength(OTP_MAX_ATTEMPTS_PER_ACCOUNT);
    expect(outcomes.filter((c) => c === 'SESSION_NOT_FOUND')).toHaveLength(20 - OTP_MAX_ATTEMPTS_PER_ACCOUNT);
    // The right code is refused too until the window ends.
    const { sessionId } = await sut.start(user.username, PASSWORD, newOrigin());
    await expect(sut.verify(sessionId, await generate({ secret: TOTP_SECRET }), newOrigin())).rejects.toMatchObject({
      code: 'SESSION_NOT_FOUND',
    });
    const notices = await waitFor('the notice to the owner', async () => {
      const found = (await mailsTo(user.email)).filter((m) => m.includes('too many wrong sign-in codes'));
      return found.length > 0 ? found : undefined;
    });
    expect(notices).toHaveLength(1);
    expect((await auditedFor(test, user.id)).filter((e) => e === 'auth.otp_cap/failure/SESSION_NOT_FOUND')).toHaveLength(1);
  }, 60_000);

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
