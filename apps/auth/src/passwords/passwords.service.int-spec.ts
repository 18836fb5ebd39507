import { AccessTokenVerifier, type Caller } from '@cloudstore/access-tokens';
import { type AuditEvent } from '@cloudstore/jobs';
import { newOrigin, newUserInput, waitFor } from '@cloudstore/testing';
import type { Queue } from 'bullmq';
import {
  auditedFor,
  type AuthTestApplication,
  insertTestUser,
  outboxMailsTo,
  startAuthTestApplication,
} from '../auth-test-application.test-helper';
import { type TokenPair, TokenIssuer } from '../tokens/token-issuer.service';
import { PasswordHasher } from '../users/password-hasher';
import type { UserEntity } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { PASSWORD_RESET_TTL_SECONDS, PasswordsService } from './passwords.service';

const PASSWORD = 'Correct-Horse-42!';
const NEW_PASSWORD = 'Battery-Staple-77?';
const RESET_URL = 'https://files.example.com/reset';
const MAILS_PER_ACCOUNT = 2;

/** Password change and reset against the real database, Redis and the mail outbox. */
describe(PasswordsService.name, () => {
  let test: AuthTestApplication;
  let auditQueue: Queue<AuditEvent>;
  let users: UsersRepository;
  let tokens: TokenIssuer;
  let verifier: AccessTokenVerifier;
  let hasher: PasswordHasher;
  let passwordHash: string;
  let sut: PasswordsService;

  beforeAll(async () => {
    test = await startAuthTestApplication({
      PASSWORD_RESET_URL: RESET_URL,
      OTP_MAILS_PER_ACCOUNT: String(MAILS_PER_ACCOUNT),
      IP_MAX_ATTEMPTS: '4',
    });
    auditQueue = test.auditQueue;
    users = test.app.get(UsersRepository);
    tokens = test.app.get(TokenIssuer);
    verifier = test.app.get(AccessTokenVerifier);
    hasher = test.app.get(PasswordHasher);
    passwordHash = await hasher.hash(PASSWORD);
    sut = test.app.get(PasswordsService);
  });

  afterAll(async () => {
    await test.close();
  });

  function newUser(): Promise<UserEntity> {
    return insertTestUser(test, passwordHash);
  }

  async function signedIn(user: UserEntity): Promise<{ pair: TokenPair; caller: Caller }> {
    const pair = await tokens.issuePair(user, newOrigin());
    return { pair, caller: await verifier.verify(pair.accessToken.token) };
  }

  async function passwordIs(userId: string, password: string): Promise<boolean> {
    return hasher.verify((await users.findByIdWithSecrets(userId))?.passwordHash, password);
  }

  /** The reset tokens mailed to `email`, oldest first; waits for `count` of them. */
  async function mailedResetTokens(email: string, count = 1): Promise<string[]> {
    return waitFor(`${count} reset mails to ${email}`, async () => {
      const links = (await outboxMailsTo(test.config.OTP_OUTBOX_DIR, email)).flatMap(
        (text) => /(https:\/\/files\.example\.com\/reset\?token=[A-Za-z0-9_-]+)/.exec(text)?.[1] ?? [],
      );
      return links.length >= count ? links.map((link) => new URL(link).searchParams.get('token') ?? '') : undefined;
    });
  }

  describe('change', () => {
    it('needs the current password: a wrong one is INVALID_CREDENTIALS and changes nothing', async () => {
      const user = await newUser();
      const { caller } = await signedIn(user);
      await expect(sut.change(caller, 'Wrong-Horse-42!', NEW_PASSWORD, newOrigin())).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      });
      expect(await passwordIs(user.id, PASSWORD)).toBe(true);
      expect(await auditedFor(test, user.id)).toEqual(['auth.password_change/failure/INVALID_CREDENTIALS']);
    });

    it('applies the password policy to the new one (WEAK_PASSWORD)', async () => {
      const user = await newUser();
      const { caller } = await signedIn(user);
      await expect(sut.change(caller, PASSWORD, 'short', newOrigin())).rejects.toMatchObject({ code: 'WEAK_PASSWORD' });
      await expect(sut.change(caller, PASSWORD, `${user.username}-Aa1!xyz`, newOrigin())).rejects.toMatchObject({
        code: 'WEAK_PASSWORD',
      });
      expect(await passwordIs(user.id, PASSWORD)).toBe(true);
    });

    it("sets the new password and ends every other sign-in; the caller's stays", async () => {
      const user = await newUser();
      const mine = await signedIn(user);
      const other = await signedIn(user);
      await sut.change(mine.caller, PASSWORD, NEW_PASSWORD, newOrigin());
      expect(await passwordIs(user.id, NEW_PASSWORD)).toBe(true);
      await expect(verifier.verify(other.pair.accessToken.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
      await expect(tokens.rotate(other.pair.refreshToken, newOrigin())).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
      await expect(verifier.verify(mine.pair.accessToken.token)).resolves.toMatchObject({ userId: user.id });
      await expect(tokens.rotate(mine.pair.refreshToken, newOrigin())).resolves.toMatchObject({
        refreshToken: expect.any(String),
      });
      expect(await auditedFor(test, user.id)).toContain('auth.password_change/success');
      const [event] = (await auditQueue.getJobs(['waiting', 'completed', 'active'])).filter(
        (j) => j.data.userId === user.id && j.data.operation === 'auth.password_change',
      );
      expect(event?.data.details).toEqual({ sessionsEnded: 1 });
      await waitFor('the notice', async () =>
        (await outboxMailsTo(test.config.OTP_OUTBOX_DIR, user.email)).find((m) => m.includes('password was changed')),
      );
    });
  });

  describe('reset', () => {
    it('answers alike for an unknown address and mails nothing', async () => {
      await expect(sut.requestReset(newUserInput().email, newOrigin())).resolves.toBeUndefined();
      await expect(sut.requestReset('no-at-sign', newOrigin())).rejects.toMatchObject({ code: 'INVALID_EMAIL' });
    });

    it('mails a single-use link valid for 15 minutes, keeps only its hash, and every sign-in ends', async () => {
      const user = await newUser();
      const session = await signedIn(user);
      await sut.requestReset(user.email.toUpperCase(), newOrigin());
      const [token] = await mailedResetTokens(user.email);
      const rows = await test.stores.dataSource.query<{ token_hash: string; ttl: number }[]>(
        `SELECT token_hash, extract(epoch FROM expires_at - created_at)::int AS ttl FROM auth.password_resets WHERE user_id = $1`,
        [user.id],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.token_hash).not.toContain(token);
      expect(Math.abs((rows[0]?.ttl ?? 0) - PASSWORD_RESET_TTL_SECONDS)).toBeLessThanOrEqual(2);

      // A refused password leaves the link usable.
      await expect(sut.confirmReset(token ?? '', 'weak', newOrigin())).rejects.toMatchObject({ code: 'WEAK_PASSWORD' });
      const outcomes = await Promise.all(
        [0, 1, 2].map(() =>
          sut.confirmReset(token ?? '', NEW_PASSWORD, newOrigin()).then(
            () => 'ok',
            (e: { code: string }) => e.code,
          ),
        ),
      );
      expect(outcomes.sort()).toEqual(['TOKEN_INVALID', 'TOKEN_INVALID', 'ok']);
      expect(await passwordIs(user.id, NEW_PASSWORD)).toBe(true);
      await expect(verifier.verify(session.pair.accessToken.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
      await expect(tokens.rotate(session.pair.refreshToken, newOrigin())).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
      await expect(sut.confirmReset(token ?? '', `${NEW_PASSWORD}x`, newOrigin())).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
      });
      expect(await auditedFor(test, user.id)).toEqual([
        'auth.password_reset_request/success',
        'auth.password_reset/success',
        'auth.refresh/failure/TOKEN_REVOKED',
      ]);
    }, 30_000);

    it('refuses an expired link (TOKEN_EXPIRED) and an unknown one (TOKEN_INVALID)', async () => {
      const user = await newUser();
      await sut.requestReset(user.email, newOrigin());
      const [token] = await mailedResetTokens(user.email);
      await test.stores.dataSource.query(
        `UPDATE auth.password_resets SET expires_at = now() - interval '1 second' WHERE user_id = $1`,
        [user.id],
      );
      await expect(sut.confirmReset(token ?? '', NEW_PASSWORD, newOrigin())).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
      await expect(sut.confirmReset('A'.repeat(43), NEW_PASSWORD, newOrigin())).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      await expect(sut.confirmReset('', NEW_PASSWORD, newOrigin())).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      expect(await passwordIs(user.id, PASSWORD)).toBe(true);
    });

    it('mails an account at most OTP_MAILS_PER_ACCOUNT links per window, and limits requests per address', async () => {
      const user = await newUser();
      for (let i = 0; i < MAILS_PER_ACCOUNT + 1; i += 1) await sut.requestReset(user.email, newOrigin());
      await mailedResetTokens(user.email, MAILS_PER_ACCOUNT);
      await waitFor('the refused request audited', async () =>
        (await auditedFor(test, user.id)).includes('auth.password_reset_request/failure/RATE_LIMITED') ? true : undefined,
      );
      expect(await mailedResetTokens(user.email)).toHaveLength(MAILS_PER_ACCOUNT);

      const origin = newOrigin();
      for (let i = 0; i < 4; i += 1) await sut.requestReset(newUserInput().email, origin);
      await expect(sut.requestReset(newUserInput().email, origin)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    });
  });
});
