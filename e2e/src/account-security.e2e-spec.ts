import { randomBytes } from 'node:crypto';
import { waitFor } from '@cloudstore/testing';
import { type RestClient, type RestResponse } from './support/api-clients';
import { signInAs, signUp, type TestUser } from './support/accounts';
import { TestCluster } from './support/test-cluster';

const NEW_PASSWORD = 'Another-Secret-Pass-7?';
const OTP_MAX_ATTEMPTS_PER_ACCOUNT = 10;

let addresses = 0;
/** A client address of its own (believed through TRUSTED_PROXIES as X-Forwarded-For). */
function newAddress(): string {
  addresses += 1;
  return `10.77.${Math.floor(addresses / 250)}.${(addresses % 250) + 1}`;
}

function codeOf(res: RestResponse): [number, unknown] {
  return [res.status, res.body['code']];
}

/** A fresh sign-in of `user` from `rest`'s address: the mailed code again. */
function anotherSession(rest: RestClient, env: TestCluster, user: TestUser): Promise<TestUser> {
  return signInAs(rest, env.smtp, user);
}

/**
 * Account security through the real cluster (REST; the gRPC door is in parity.e2e-spec): password
 * change and reset with mail through a real SMTP server, the list of sessions, signing out
 * everywhere, the per-account cap on second-factor guesses, and lockout that an attacker cannot
 * turn against the owner.
 */
describe('account security', () => {
  const env = TestCluster.perFile({
    TRUSTED_PROXIES: '127.0.0.1/32',
    STORAGE_NODES: '1',
    OTP_MAILS_PER_ACCOUNT: '50',
    OTP_MAX_ATTEMPTS_PER_ACCOUNT: String(OTP_MAX_ATTEMPTS_PER_ACCOUNT),
  });

  describe('password change', () => {
    it("needs the current password, applies the policy, and ends every other session; the caller's stays", async () => {
      const rest = env.rest.withIp(newAddress());
      const mine = await signUp(rest, env.smtp, 'chg');
      const other = await anotherSession(env.rest.withIp(newAddress()), env, mine);

      const wrong = await rest.post(
        '/v1/auth/password',
        { current_password: 'Not-The-Password-1!', new_password: NEW_PASSWORD },
        mine.token,
      );
      expect(codeOf(wrong)).toEqual([401, 'INVALID_CREDENTIALS']);
      const weak = await rest.post('/v1/auth/password', { current_password: mine.password, new_password: 'short' }, mine.token);
      expect(codeOf(weak)).toEqual([400, 'WEAK_PASSWORD']);
      const missing = await rest.post('/v1/auth/password', { new_password: NEW_PASSWORD }, mine.token);
      expect(codeOf(missing)).toEqual([400, 'INVALID_ARGUMENT']);
      const unauthenticated = await rest.post('/v1/auth/password', {
        current_password: mine.password,
        new_password: NEW_PASSWORD,
      });
      expect(codeOf(unauthenticated)).toEqual([401, 'TOKEN_INVALID']);

      const changed = await rest.post(
        '/v1/auth/password',
        { current_password: mine.password, new_password: NEW_PASSWORD },
        mine.token,
      );
      expect([changed.status, changed.body]).toEqual([200, { success: true }]);
      expect(codeOf(await env.rest.get('/v1/auth/me', other.token))).toEqual([401, 'TOKEN_REVOKED']);
      expect(codeOf(await env.rest.post('/v1/auth/refresh', { refresh_token: other.refreshToken }))).toEqual([
        401,
        'TOKEN_REVOKED',
      ]);
      expect((await rest.get('/v1/auth/me', mine.token)).status).toBe(200);
      expect((await rest.post('/v1/auth/refresh', { refresh_token: mine.refreshToken })).status).toBe(200);

      expect(codeOf(await rest.post('/v1/auth/login', { username: mine.username, password: mine.password }))).toEqual([
        401,
        'INVALID_CREDENTIALS',
      ]);
      await expect(signInAs(rest, env.smtp, { ...mine, password: NEW_PASSWORD })).resolves.toMatchObject({ userId: mine.userId });
      await waitFor('the notice of the change', () =>
        env.smtp.textsTo(mine.email).find((t) => t.includes('password was changed')),
      );
    });
  });

  describe('password reset', () => {
    it('mails a single-use link through SMTP, sets the new password and ends every session; an unknown address is answered alike', async () => {
      const rest = env.rest.withIp(newAddress());
      const user = await signUp(rest, env.smtp, 'rst');
      const unknown = await rest.post('/v1/auth/password-reset', {
        email: `nobody_${randomBytes(4).toString('hex')}@example.com`,
      });
      const known = await rest.post('/v1/auth/password-reset', { email: user.email.toUpperCase() });
      expect([unknown.status, known.status]).toEqual([202, 202]);
      expect(known.body).toEqual(unknown.body);
      expect(codeOf(await rest.post('/v1/auth/password-reset', { email: 'not-an-address' }))).toEqual([400, 'INVALID_EMAIL']);

      const token = await env.smtp.resetTokenFor(user.email);
      const mail = env.smtp.textsTo(user.email).find((t) => t.includes(`token=${token}`)) ?? '';
      expect(mail).toContain(`http://localhost:8080/reset-password?token=${token}`);
      expect(mail).toContain('expires in 15 minutes');

      const weak = await rest.post('/v1/auth/password-reset/confirm', { token, new_password: 'weak' });
      expect(codeOf(weak)).toEqual([400, 'WEAK_PASSWORD']);
      const done = await rest.post('/v1/auth/password-reset/confirm', { token, new_password: NEW_PASSWORD });
      expect(done.status).toBe(200);
      const again = await rest.post('/v1/auth/password-reset/confirm', { token, new_password: `${NEW_PASSWORD}x` });
      expect(codeOf(again)).toEqual([401, 'TOKEN_INVALID']);
      expect(
        codeOf(await rest.post('/v1/auth/password-reset/confirm', { token: 'made-up', new_password: NEW_PASSWORD })),
      ).toEqual([401, 'TOKEN_INVALID']);

      expect(codeOf(await rest.get('/v1/auth/me', user.token))).toEqual([401, 'TOKEN_REVOKED']);
      expect(codeOf(await rest.post('/v1/auth/refresh', { refresh_token: user.refreshToken }))).toEqual([401, 'TOKEN_REVOKED']);
      await expect(signInAs(rest, env.smtp, { ...user, password: NEW_PASSWORD })).resolves.toMatchObject({ userId: user.userId });
      // Only the token's hash is kept.
      const stored = await env.pg.query<{ token_hash: string }>(
        `SELECT token_hash FROM auth.password_resets WHERE user_id = $1`,
        [user.userId],
      );
      expect(stored.rows.map((r) => r.token_hash)).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
      expect(JSON.stringify(stored.rows)).not.toContain(token);
    });
  });

  describe('sessions', () => {
    it("lists the caller's sessions, ends one (never another user's), and signs out everywhere", async () => {
      const firstAddress = newAddress();
      const user = await signUp(env.rest.withIp(firstAddress), env.smtp, 'ses');
      const secondAddress = newAddress();
      const second = await anotherSession(env.rest.withIp(secondAddress), env, user);
      const stranger = await signUp(env.rest.withIp(newAddress()), env.smtp, 'ses');

      const listed = await env.rest.get<{ sessions: Record<string, unknown>[] }>('/v1/auth/sessions', user.token);
      expect(listed.status).toBe(200);
      const now = Math.floor(Date.now() / 1000);
      expect(listed.body.sessions).toHaveLength(2);
      const [newest, oldest] = listed.body.sessions;
      expect(newest).toMatchObject({ address: secondAddress, current: false, device: expect.any(String) });
      expect(oldest).toMatchObject({ address: firstAddress, current: true });
      for (const session of listed.body.sessions) {
        expect(session['id']).toBe(session['session_id']);
        expect(Math.abs(Number(session['created_at']) - now)).toBeLessThan(300);
        expect(Number(session['last_used_at'])).toBeGreaterThanOrEqual(Number(session['created_at']));
      }

      const strangers = await env.rest.get<{ sessions: Record<string, unknown>[] }>('/v1/auth/sessions', stranger.token);
      const strangerId = String(strangers.body.sessions[0]?.['session_id']);
      for (const id of [strangerId, '00000000-0000-4000-8000-000000000000', 'not-a-session']) {
        expect(codeOf(await env.rest.request('DELETE', `/v1/auth/sessions/${id}`, { token: user.token }))).toEqual([
          404,
          'NOT_FOUND',
        ]);
      }
      expect((await env.rest.get('/v1/auth/me', stranger.token)).status).toBe(200);

      const ended = await env.rest.request('DELETE', `/v1/auth/sessions/${String(newest?.['session_id'])}`, {
        token: user.token,
      });
      expect(ended.status).toBe(200);
      expect(codeOf(await env.rest.post('/v1/auth/refresh', { refresh_token: second.refreshToken }))).toEqual([
        401,
        'TOKEN_REVOKED',
      ]);
      expect(codeOf(await env.rest.get('/v1/auth/me', second.token))).toEqual([401, 'TOKEN_REVOKED']);
      const left = await env.rest.get<{ sessions: Record<string, unknown>[] }>('/v1/auth/sessions', user.token);
      expect(left.body.sessions.map((s) => s['session_id'])).toEqual([oldest?.['session_id']]);

      const third = await anotherSession(env.rest.withIp(newAddress()), env, user);
      expect((await env.rest.post('/v1/auth/logout-all', {}, user.token)).status).toBe(200);
      for (const session of [user, third]) {
        expect(codeOf(await env.rest.get('/v1/auth/me', session.token))).toEqual([401, 'TOKEN_REVOKED']);
        expect(codeOf(await env.rest.post('/v1/auth/refresh', { refresh_token: session.refreshToken }))).toEqual([
          401,
          'TOKEN_REVOKED',
        ]);
      }
      await waitFor('the audit events', async () => {
        const rows = await env.pg.query<{ operation: string }>(
          `SELECT operation FROM metadata.audit_log WHERE user_id = $1 AND status = 'success'`,
          [user.userId],
        );
        const operations = rows.rows.map((r) => r.operation);
        return operations.includes('auth.session_revoke') && operations.includes('auth.logout_all') ? true : undefined;
      });
    });
  });

  describe('second factor', () => {
    it(`caps guesses per account from 20 addresses at ${OTP_MAX_ATTEMPTS_PER_ACCOUNT}: the session dies and the owner is mailed`, async () => {
      const user = await signUp(env.rest.withIp(newAddress()), env.smtp, 'cap');
      const outcomes: unknown[] = [];
      for (let round = 0; round < 4; round += 1) {
        const before = env.smtp.mailsTo(user.email).length;
        const login = await env.rest
          .withIp(newAddress())
          .post('/v1/auth/login', { username: user.username, password: user.password });
        expect(login.status).toBe(200);
        const code = await env.smtp.codeFor(user.email, before);
        const wrong = code === '000000' ? '111111' : '000000';
        const guesses = await Promise.all(
          Array.from({ length: 5 }, () =>
            env.rest.withIp(newAddress()).post('/v1/auth/verify-otp', { session_id: login.body['session_id'], otp: wrong }),
          ),
        );
        outcomes.push(...guesses.map((g) => g.body['code']));
      }
      expect(outcomes.filter((c) => c === 'INVALID_OTP')).toHaveLength(OTP_MAX_ATTEMPTS_PER_ACCOUNT);
      expect(outcomes.filter((c) => c === 'SESSION_NOT_FOUND')).toHaveLength(20 - OTP_MAX_ATTEMPTS_PER_ACCOUNT);
      // The right code is refused too while the cap holds.
      const before = env.smtp.mailsTo(user.email).length;
      const login = await env.rest.post('/v1/auth/login', { username: user.username, password: user.password });
      const code = await env.smtp.codeFor(user.email, before);
      expect(codeOf(await env.rest.post('/v1/auth/verify-otp', { session_id: login.body['session_id'], otp: code }))).toEqual([
        401,
        'SESSION_NOT_FOUND',
      ]);
      const notices = await waitFor('the notice to the owner', () => {
        const found = env.smtp.textsTo(user.email).filter((t) => t.includes('Someone is trying to sign in'));
        return found.length > 0 ? found : undefined;
      });
      expect(notices).toHaveLength(1);
    });
  });

  describe('lockout', () => {
    it('an attacker hammering from one address does not stop the owner signing in from their own', async () => {
      const owner = env.rest.withIp(newAddress());
      const user = await signUp(owner, env.smtp, 'lock');
      const attacker = env.rest.withIp(newAddress());
      const answers: unknown[] = [];
      for (let i = 0; i < 12; i += 1) {
        answers.push(
          (await attacker.post('/v1/auth/login', { username: user.username, password: `Wrong-${i}-Password!` })).body['code'],
        );
      }
      expect(answers).toEqual([...Array<string>(5).fill('INVALID_CREDENTIALS'), ...Array<string>(7).fill('ACCOUNT_LOCKED')]);
      const locked = await attacker.post('/v1/auth/login', { username: user.username, password: user.password });
      expect(codeOf(locked)).toEqual([429, 'ACCOUNT_LOCKED']);
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(60);
      await expect(signInAs(owner, env.smtp, user)).resolves.toMatchObject({ userId: user.userId });
    });

    // Twice LOGIN_MAX_ATTEMPTS at once shows the bug (it answered 5 × 200 and 5 × ACCOUNT_LOCKED); the medium
    // test of LoginService runs the reported 20, which through the cluster would measure argon2 on a busy machine.
    it('regression (issue 12 item 9): simultaneous logins with the right password all succeed and lock nothing', async () => {
      const rest = env.rest.withIp(newAddress());
      const user = await signUp(rest, env.smtp, 'para');
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => rest.post('/v1/auth/login', { username: user.username, password: user.password })),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
      await expect(signInAs(env.rest.withIp(newAddress()), env.smtp, user)).resolves.toMatchObject({ userId: user.userId });
    });
  });

  describe('authenticator apps', () => {
    it('enrol and disable need the password again', async () => {
      const rest = env.rest.withIp(newAddress());
      const user = await signUp(rest, env.smtp, 'totp');
      expect(codeOf(await rest.post('/v1/auth/totp/enroll', {}, user.token))).toEqual([400, 'INVALID_ARGUMENT']);
      expect(codeOf(await rest.post('/v1/auth/totp/enroll', { password: 'Not-The-Password-1!' }, user.token))).toEqual([
        401,
        'INVALID_CREDENTIALS',
      ]);
      expect((await rest.post('/v1/auth/totp/enroll', { password: user.password }, user.token)).status).toBe(200);
      expect(
        codeOf(await rest.post('/v1/auth/totp/disable', { code: '123456', password: 'Not-The-Password-1!' }, user.token)),
      ).toEqual([401, 'INVALID_CREDENTIALS']);
    });
  });
});

describe('account security with a short SESSION_MAX_AGE_SECONDS', () => {
  const env = TestCluster.perFile({ SESSION_MAX_AGE_SECONDS: '6', STORAGE_NODES: '1' });

  it('refuses to refresh a session past its absolute lifetime (TOKEN_EXPIRED), however often it was refreshed', async () => {
    const user = await signUp(env.rest, env.smtp, 'age');
    let refreshToken = user.refreshToken;
    const refused = await waitFor(
      'the session past its lifetime',
      async () => {
        const res = await env.rest.post('/v1/auth/refresh', { refresh_token: refreshToken });
        if (res.status === 200) {
          refreshToken = res.body['refresh_token'] as string;
          return undefined;
        }
        return res;
      },
      30_000,
      500,
    );
    expect(codeOf(refused)).toEqual([401, 'TOKEN_EXPIRED']);
    const renewal = await env.rest.post('/v1/auth/refresh', { current_token: user.token });
    expect(renewal.status).toBe(401);
    expect((await env.rest.get<{ sessions: unknown[] }>('/v1/auth/sessions', user.token)).status).toBe(401);
  });
});
