import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { waitFor } from '@cloudstore/testing';
import { generate } from 'otplib';
import { Client } from 'pg';
import { adminGrpcClient, bearer, publicGrpcClient, rawUnary, RestClient } from './support/api-clients';
import { ClusterProcess } from './support/cluster-process';
import { SmtpSink } from './support/smtp-sink';

const PASSWORD = 'Sup3r-Secret-Pass!';
const ADMIN = { username: 'root_admin', email: 'root@example.com', password: 'Admin-Passw0rd-2026!' };
/**
 * Long enough for the limit tests to make their attempts within one window on a busy machine (each
 * login is an Argon2id hash, and TOTP changes check the password too), short enough to see a lock end.
 */
const WINDOW_SECONDS = 20;

let counter = 0;
/** A fresh identity per test: user, email and client address never collide between tests. */
function identity(prefix = 'user') {
  counter += 1;
  const id = `${prefix}_${randomBytes(3).toString('hex')}${counter}`;
  return {
    username: id,
    email: `${id}@example.com`,
    password: PASSWORD,
    ip: `10.${counter % 250}.${Math.floor(Math.random() * 250)}.${(counter * 7) % 250}`,
  };
}

describe('auth through the gateway (REST and gRPC), real auth service, PostgreSQL, Redis and SMTP', () => {
  let smtp: SmtpSink;
  let cluster: ClusterProcess;
  let rest: RestClient;
  let grpc: ReturnType<typeof publicGrpcClient>;
  let admin: ReturnType<typeof adminGrpcClient>;
  const plaintexts: string[] = [PASSWORD, ADMIN.password];

  beforeAll(async () => {
    smtp = await SmtpSink.start();
    cluster = await ClusterProcess.start({
      SMTP_URL: smtp.url,
      TRUSTED_PROXIES: '127.0.0.1/32',
      LOGIN_MAX_ATTEMPTS: '5',
      LOGIN_WINDOW_SECONDS: String(WINDOW_SECONDS),
      IP_MAX_ATTEMPTS: '8',
      OTP_MAILS_PER_ACCOUNT: '4',
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
    });
    await cluster.waitUntilReady();
    rest = new RestClient(cluster.httpUrl);
    grpc = publicGrpcClient(`127.0.0.1:${cluster.ports.grpc}`);
    admin = adminGrpcClient(`127.0.0.1:${cluster.ports.grpc}`);
  });

  afterAll(async () => {
    grpc?.close();
    admin?.close();
    await cluster?.destroy();
    await smtp?.close();
  });

  async function register(who = identity()) {
    const res = await rest
      .withIp(who.ip)
      .post('/v1/auth/register', { username: who.username, email: who.email, password: who.password });
    expect(res.status).toBe(201);
    return { ...who, userId: res.body['user_id'] as string };
  }

  /** Password, then the mailed code: the tokens of a fresh sign-in. */
  async function signIn(who: { username: string; email: string; password: string; ip: string }, loginName = who.username) {
    const mailsBefore = smtp.mailsTo(who.email).length;
    const login = await rest.withIp(who.ip).post('/v1/auth/login', { username: loginName, password: who.password });
    expect(login.status).toBe(200);
    const otp = await smtp.codeFor(who.email, mailsBefore);
    plaintexts.push(otp);
    const verified = await rest.withIp(who.ip).post('/v1/auth/verify-otp', { session_id: login.body['session_id'], otp });
    expect(verified.status).toBe(200);
    return verified.body as { auth_token: string; refresh_token: string; token_type: string; expires_at: number };
  }

  async function me(token: string) {
    return rest.get('/v1/auth/me', token);
  }

  describe('registration', () => {
    it('registers a valid user (REST) and answers with the id and time', async () => {
      const who = identity();
      const res = await rest
        .withIp(who.ip)
        .post('/v1/auth/register', { username: who.username, email: who.email, password: who.password });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ user_id: expect.stringMatching(/^[0-9a-f-]{36}$/), username: who.username });
      expect(Math.abs((res.body['created_at'] as number) - Date.now() / 1000)).toBeLessThan(60);
    });

    it('registers over gRPC with the seed fields', async () => {
      const who = identity();
      const res = await grpc.call('register', { username: who.username, email: who.email, password: who.password });
      expect(res).toMatchObject({ success: true, userId: expect.any(String), createdAt: expect.any(Number) });
    });

    it.each([
      [{ username: 'ab' }, 'INVALID_USERNAME'],
      [{ username: 'has space' }, 'INVALID_USERNAME'],
      [{ username: 'x'.repeat(33) }, 'INVALID_USERNAME'],
      [{ email: 'not-an-email' }, 'INVALID_EMAIL'],
      [{ email: 'user@localhost' }, 'INVALID_EMAIL'],
      [{ email: 'a..b@example.com' }, 'INVALID_EMAIL'],
      [{ password: 'Short1!' }, 'WEAK_PASSWORD'],
      [{ password: 'alllowercase-and-digits-1' }, 'WEAK_PASSWORD'],
      [{ password: 'NoDigitsHere!!!!' }, 'WEAK_PASSWORD'],
      [{ password: 'NoSpecials12345' }, 'WEAK_PASSWORD'],
      [{ password: `A1!${'b'.repeat(126)}` }, 'WEAK_PASSWORD'],
    ])('refuses %j with %s (HTTP 400, problem+json)', async (override, code) => {
      const who = identity();
      const res = await rest
        .withIp(who.ip)
        .post('/v1/auth/register', { username: who.username, email: who.email, password: who.password, ...override });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body).toMatchObject({ code, status: 400, detail: expect.any(String) });
    });

    it('refuses a common password and says which rule failed', async () => {
      const who = identity();
      const res = await rest
        .withIp(who.ip)
        .post('/v1/auth/register', { username: who.username, email: who.email, password: 'Password123!' });
      expect(res.body).toMatchObject({ code: 'WEAK_PASSWORD', detail: expect.stringMatching(/common/) });
    });

    it('refuses a password containing the username', async () => {
      const who = identity();
      const res = await rest
        .withIp(who.ip)
        .post('/v1/auth/register', { username: who.username, email: who.email, password: `X9!${who.username}Zz` });
      expect(res.body).toMatchObject({ code: 'WEAK_PASSWORD', detail: expect.stringMatching(/username/) });
    });

    it('accepts 128 characters of any Unicode, and the same password signs in after NFC normalisation', async () => {
      const who = { ...identity(), password: `É1!${'ж'.repeat(120)}Zq9Y` };
      expect([...who.password].length).toBeLessThanOrEqual(128);
      await register(who);
      const decomposed = { ...who, password: who.password.normalize('NFD') };
      expect(decomposed.password).not.toBe(who.password);
      const tokens = await signIn(decomposed);
      expect((await me(tokens.auth_token)).status).toBe(200);
    });

    it('takes usernames and emails as unique case-insensitively (409 USERNAME_TAKEN / EMAIL_TAKEN)', async () => {
      const who = await register();
      const again = identity();
      const byName = await rest
        .withIp(again.ip)
        .post('/v1/auth/register', { username: who.username.toUpperCase(), email: again.email, password: PASSWORD });
      expect([byName.status, byName.body['code']]).toEqual([409, 'USERNAME_TAKEN']);
      const byEmail = await rest
        .withIp(again.ip)
        .post('/v1/auth/register', { username: again.username, email: who.email.toUpperCase(), password: PASSWORD });
      expect([byEmail.status, byEmail.body['code']]).toEqual([409, 'EMAIL_TAKEN']);
    });

    it('lets exactly one of five concurrent registrations of one username win', async () => {
      const name = identity().username;
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          rest
            .withIp(`172.16.0.${i + 1}`)
            .post('/v1/auth/register', { username: name, email: `${name}.${i}@example.com`, password: PASSWORD }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
      expect(results.filter((r) => r.status === 409).every((r) => r.body['code'] === 'USERNAME_TAKEN')).toBe(true);
    });

    it('answers malformed JSON with INVALID_ARGUMENT', async () => {
      const res = await rest.request('POST', '/v1/auth/register', { rawBody: '{"username":' });
      expect([res.status, res.body['code']]).toEqual([400, 'INVALID_ARGUMENT']);
    });
  });

  describe('login', () => {
    it('signs in by username: password, then the 6-digit code from the mail', async () => {
      const who = await register();
      const login = await rest.withIp(who.ip).post('/v1/auth/login', { username: who.username, password: who.password });
      expect(login.body).toMatchObject({
        session_id: expect.any(String),
        otp_method: 'email',
        otp_expires_at: expect.any(Number),
      });
      expect((login.body['session_id'] as string).length).toBeGreaterThanOrEqual(43);
      const mail = smtp.mailsTo(who.email).at(-1);
      expect(mail?.raw).toMatch(/^Subject: Your cloudstore sign-in code: \d{6}$/m);
      const otp = await smtp.codeFor(who.email);
      const verified = await rest.withIp(who.ip).post('/v1/auth/verify-otp', { session_id: login.body['session_id'], otp });
      expect(verified.body).toMatchObject({
        auth_token: expect.any(String),
        token_type: 'Bearer',
        expires_at: expect.any(Number),
        refresh_token: expect.any(String),
      });
      expect((await me(verified.body['auth_token'] as string)).body).toMatchObject({
        user_id: who.userId,
        username: who.username,
        role: 'basic',
      });
    });

    it('signs in by email, case-insensitively, over gRPC', async () => {
      const who = await register();
      const login = await grpc.call('login', { username: who.email.toUpperCase(), password: who.password });
      expect(login).toMatchObject({ success: true, otpMethod: 'email' });
      const otp = await smtp.codeFor(who.email);
      const verified = await grpc.call('verifyOtp', { sessionId: login.sessionId, otp });
      expect(verified).toMatchObject({
        success: true,
        tokenType: 'Bearer',
        authToken: expect.any(String),
        refreshToken: expect.any(String),
      });
    });

    it('gives the same INVALID_CREDENTIALS for an unknown user and a wrong password', async () => {
      const who = await register();
      const unknown = await rest
        .withIp(who.ip)
        .post('/v1/auth/login', { username: `nobody_${who.username}`, password: PASSWORD });
      const wrong = await rest.withIp(who.ip).post('/v1/auth/login', { username: who.username, password: 'Wrong-Passw0rd!' });
      expect([unknown.status, unknown.body['code']]).toEqual([401, 'INVALID_CREDENTIALS']);
      expect([wrong.status, wrong.body['code']]).toEqual([401, 'INVALID_CREDENTIALS']);
      expect(unknown.body['detail']).toBe(wrong.body['detail']);
    });

    it('carries the contract code in the error-code trailer of a failed gRPC call', async () => {
      const error = await rawUnary(grpc, 'Login', { username: 'nobody_at_all', password: 'x' });
      expect(error?.code).toBe(GrpcStatus.UNAUTHENTICATED);
      expect(error?.metadata.get('error-code')).toEqual(['INVALID_CREDENTIALS']);
    });

    it('rejects a wrong code (INVALID_OTP), and destroys the session after 5 wrong codes', async () => {
      const who = await register();
      const login = await rest.withIp(who.ip).post('/v1/auth/login', { username: who.username, password: who.password });
      const otp = await smtp.codeFor(who.email);
      const wrong = otp === '000000' ? '111111' : '000000';
      for (let i = 0; i < 5; i += 1) {
        const res = await rest.withIp(who.ip).post('/v1/auth/verify-otp', { session_id: login.body['session_id'], otp: wrong });
        expect([res.status, res.body['code']]).toEqual([401, 'INVALID_OTP']);
      }
      const after = await rest.withIp(who.ip).post('/v1/auth/verify-otp', { session_id: login.body['session_id'], otp });
      expect([after.status, after.body['code']]).toEqual([401, 'SESSION_NOT_FOUND']);
    });

    it('accepts a code once: the session is gone after it was used', async () => {
      const who = await register();
      const login = await rest.withIp(who.ip).post('/v1/auth/login', { username: who.username, password: who.password });
      const otp = await smtp.codeFor(who.email);
      const first = await rest.withIp(who.ip).post('/v1/auth/verify-otp', { session_id: login.body['session_id'], otp });
      expect(first.status).toBe(200);
      const second = await rest.withIp(who.ip).post('/v1/auth/verify-otp', { session_id: login.body['session_id'], otp });
      expect(second.body['code']).toBe('SESSION_NOT_FOUND');
    });

    it('replaces a pending code when the user signs in again', async () => {
      const who = await register();
      const first = await rest.withIp(who.ip).post('/v1/auth/login', { username: who.username, password: who.password });
      const firstCode = await smtp.codeFor(who.email, 0);
      await rest.withIp(who.ip).post('/v1/auth/login', { username: who.username, password: who.password });
      await waitFor('the second mail', () => smtp.mailsTo(who.email).length === 2);
      const stale = await rest
        .withIp(who.ip)
        .post('/v1/auth/verify-otp', { session_id: first.body['session_id'], otp: firstCode });
      expect(stale.body['code']).toBe('SESSION_NOT_FOUND');
    });

    it('answers an unknown session with SESSION_NOT_FOUND', async () => {
      const res = await rest.post('/v1/auth/verify-otp', { session_id: 'x'.repeat(43), otp: '123456' });
      expect([res.status, res.body['code']]).toEqual([401, 'SESSION_NOT_FOUND']);
    });
  });

  describe('brute-force protection', () => {
    it('locks the attacked (account, address) pair after 5 bad passwords, even for the right one, for the rest of the window', async () => {
      const who = await register();
      const attacker = rest.withIp(`192.168.${counter}.1`);
      for (let i = 0; i < 5; i += 1) {
        const res = await attacker.post('/v1/auth/login', { username: who.username, password: `Wrong-${i}-Password!` });
        expect(res.body['code']).toBe('INVALID_CREDENTIALS');
      }
      const locked = await attacker.post('/v1/auth/login', { username: who.username, password: who.password });
      expect([locked.status, locked.body['code']]).toEqual([429, 'ACCOUNT_LOCKED']);
      // The lock ends with the window (shown on real Redis in brute-force-protection.int-spec).
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(WINDOW_SECONDS);
    });

    it('limits attempts per client address (RATE_LIMITED with Retry-After)', async () => {
      const address = '203.0.113.77';
      const statuses: unknown[] = [];
      for (let i = 0; i < 9; i += 1) {
        const res = await rest
          .withIp(address)
          .post('/v1/auth/login', { username: `ghost_${i}_${counter}`, password: 'Wrong-Password-1!' });
        statuses.push(res.body['code']);
      }
      expect(statuses.slice(0, 8)).toEqual(Array(8).fill('INVALID_CREDENTIALS'));
      const limited = await rest.withIp(address).post('/v1/auth/login', { username: 'ghost_last', password: 'x' });
      expect([limited.status, limited.body['code']]).toEqual([429, 'RATE_LIMITED']);
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(statuses.at(-1)).toBe('RATE_LIMITED');
    });

    it('mails at most OTP_MAILS_PER_ACCOUNT codes per account per window', async () => {
      const who = await register();
      for (let i = 0; i < 4; i += 1) {
        const res = await rest
          .withIp(`198.51.100.${counter % 200}`)
          .post('/v1/auth/login', { username: who.username, password: who.password });
        expect(res.status).toBe(200);
      }
      const fifth = await rest.withIp(who.ip).post('/v1/auth/login', { username: who.username, password: who.password });
      expect([fifth.status, fifth.body['code']]).toEqual([429, 'RATE_LIMITED']);
      expect(smtp.mailsTo(who.email)).toHaveLength(4);
    });
  });

  describe('tokens', () => {
    it('rejects garbage with TOKEN_INVALID', async () => {
      const res = await me('not.a.token');
      expect([res.status, res.body['code']]).toEqual([401, 'TOKEN_INVALID']);
      const missing = await rest.get('/v1/auth/me');
      expect(missing.body['code']).toBe('TOKEN_INVALID');
    });

    it('accepts the token as gRPC metadata (authorization: Bearer)', async () => {
      const who = await register();
      const tokens = await signIn(who);
      const res = await grpc.call('logout', { authToken: '' }, { metadata: bearer(tokens.auth_token) });
      expect(res.success).toBe(true);
      expect((await me(tokens.auth_token)).body['code']).toBe('TOKEN_REVOKED');
    });

    it('rotates refresh tokens, and a reused one revokes its whole family', async () => {
      const who = await register();
      const first = await signIn(who);
      const second = await rest.withIp(who.ip).post('/v1/auth/refresh', { refresh_token: first.refresh_token });
      expect(second.body).toMatchObject({
        auth_token: expect.any(String),
        refresh_token: expect.any(String),
        token_type: 'Bearer',
      });
      expect(second.body['refresh_token']).not.toBe(first.refresh_token);
      expect((await me(second.body['auth_token'] as string)).status).toBe(200);

      const reuse = await rest.withIp(who.ip).post('/v1/auth/refresh', { refresh_token: first.refresh_token });
      expect([reuse.status, reuse.body['code']]).toEqual([401, 'TOKEN_REVOKED']);
      expect((await me(second.body['auth_token'] as string)).body['code']).toBe('TOKEN_REVOKED');
      expect((await me(first.auth_token)).body['code']).toBe('TOKEN_REVOKED');
      const successor = await rest.withIp(who.ip).post('/v1/auth/refresh', { refresh_token: second.body['refresh_token'] });
      expect(successor.body['code']).toBe('TOKEN_REVOKED');
    });

    it("renews with the seed's current_token over gRPC, revoking the old access token", async () => {
      const who = await register();
      const tokens = await signIn(who);
      const renewed = await grpc.call('refreshToken', { currentToken: tokens.auth_token, refreshToken: '' });
      expect(renewed).toMatchObject({ success: true, newToken: expect.any(String), expiresAt: expect.any(Number) });
      expect((await me(renewed.newToken)).status).toBe(200);
      expect((await me(tokens.auth_token)).body['code']).toBe('TOKEN_REVOKED');
    });

    it('logs out: the access token and its refresh token stop working (TOKEN_REVOKED)', async () => {
      const who = await register();
      const tokens = await signIn(who);
      const out = await rest.post('/v1/auth/logout', {}, tokens.auth_token);
      expect(out.status).toBe(200);
      expect((await me(tokens.auth_token)).body['code']).toBe('TOKEN_REVOKED');
      const refresh = await rest.post('/v1/auth/refresh', { refresh_token: tokens.refresh_token });
      expect(refresh.body['code']).toBe('TOKEN_REVOKED');
    });

    it('refuses an unknown refresh token with TOKEN_INVALID', async () => {
      const res = await rest.post('/v1/auth/refresh', { refresh_token: randomBytes(32).toString('base64url') });
      expect([res.status, res.body['code']]).toEqual([401, 'TOKEN_INVALID']);
    });
  });

  describe('authenticator apps (TOTP)', () => {
    it('enrols, signs in with TOTP codes (each once) and recovery codes (each once), and disables', async () => {
      const who = await register();
      const tokens = await signIn(who);
      const enrolled = await rest.withIp(who.ip).post('/v1/auth/totp/enroll', { password: who.password }, tokens.auth_token);
      expect(enrolled.body).toMatchObject({
        secret: expect.stringMatching(/^[A-Z2-7]+$/),
        otpauth_uri: expect.stringMatching(/^otpauth:\/\/totp\/cloudstore:/),
      });
      const secret = enrolled.body['secret'] as string;
      const wrongConfirm = await rest.withIp(who.ip).post('/v1/auth/totp/confirm', { code: '000000' }, tokens.auth_token);
      expect(wrongConfirm.body['code']).toBe('INVALID_OTP');
      const confirmed = await rest
        .withIp(who.ip)
        .post('/v1/auth/totp/confirm', { code: await generate({ secret }) }, tokens.auth_token);
      const recoveryCodes = confirmed.body['recovery_codes'] as string[];
      expect(recoveryCodes).toHaveLength(10);
      plaintexts.push(...recoveryCodes, secret);

      const mailsBefore = smtp.mailsTo(who.email).length;
      const login = await rest.withIp(who.ip).post('/v1/auth/login', { username: who.username, password: who.password });
      expect(login.body['otp_method']).toBe('totp');
      // The confirming code's time step is spent: a code of the next step signs in, once.
      const nextCode = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
      const verified = await rest
        .withIp(who.ip)
        .post('/v1/auth/verify-otp', { session_id: login.body['session_id'], otp: nextCode });
      expect(verified.status).toBe(200);
      expect(smtp.mailsTo(who.email)).toHaveLength(mailsBefore);

      const again = await rest.withIp(who.ip).post('/v1/auth/login', { username: who.username, password: who.password });
      const replay = await rest
        .withIp(who.ip)
        .post('/v1/auth/verify-otp', { session_id: again.body['session_id'], otp: nextCode });
      expect(replay.body['code']).toBe('INVALID_OTP');
      const recovery = await rest
        .withIp(who.ip)
        .post('/v1/auth/verify-otp', { session_id: again.body['session_id'], otp: recoveryCodes[0] });
      expect(recovery.status).toBe(200);

      const third = await rest.withIp(who.ip).post('/v1/auth/login', { username: who.username, password: who.password });
      const reusedRecovery = await rest
        .withIp(who.ip)
        .post('/v1/auth/verify-otp', { session_id: third.body['session_id'], otp: recoveryCodes[0] });
      expect(reusedRecovery.body['code']).toBe('INVALID_OTP');

      const token = verified.body['auth_token'] as string;
      expect(
        (await rest.withIp(who.ip).post('/v1/auth/totp/disable', { code: '123', password: who.password }, token)).body['code'],
      ).toBe('INVALID_OTP');
      expect(
        (await rest.withIp(who.ip).post('/v1/auth/totp/disable', { code: recoveryCodes[1], password: who.password }, token))
          .status,
      ).toBe(200);
      const mailed = await rest.withIp(who.ip).post('/v1/auth/login', { username: who.username, password: who.password });
      expect(mailed.body['otp_method']).toBe('email');
    });

    it('limits wrong codes of a signed-in user like passwords: a stolen token cannot guess its way to disabling TOTP', async () => {
      const who = await register();
      const tokens = await signIn(who);
      const client = rest.withIp(who.ip);
      const secret = (await client.post('/v1/auth/totp/enroll', { password: who.password }, tokens.auth_token)).body[
        'secret'
      ] as string;
      expect((await client.post('/v1/auth/totp/confirm', { code: await generate({ secret }) }, tokens.auth_token)).status).toBe(
        200,
      );
      for (let i = 0; i < 5; i += 1) {
        const wrong = await client.post('/v1/auth/totp/disable', { code: '000000', password: who.password }, tokens.auth_token);
        expect(wrong.body['code']).toBe('INVALID_OTP');
      }
      const blocked = await client.post(
        '/v1/auth/totp/disable',
        { code: await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }), password: who.password },
        tokens.auth_token,
      );
      expect([blocked.status, blocked.body['code']]).toEqual([429, 'RATE_LIMITED']);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });

  describe('roles and administration', () => {
    it('creates the bootstrap admin from ADMIN_* once, even across restarts of auth', async () => {
      const before = cluster.pidOf('auth');
      process.kill(before as number, 'SIGTERM');
      await waitFor('auth restarted', () => cluster.pidOf('auth') !== before, 20_000);
      await waitFor('cluster ready again', async () => (await fetch(`${cluster.httpUrl}/readyz`)).status === 200, 30_000);
      const tokens = await signIn({ ...ADMIN, ip: '10.250.0.1' });
      const list = await rest.get<{ users: { username: string; role: string }[]; total_count: number }>(
        `/v1/admin/users?filter=${ADMIN.username}`,
        tokens.auth_token,
      );
      expect(list.status).toBe(200);
      expect(list.body.users.filter((u) => u.username === ADMIN.username)).toEqual([expect.objectContaining({ role: 'admin' })]);
    });

    it('guards admin routes by role: a basic user gets PERMISSION_DENIED on REST and gRPC', async () => {
      const who = await register();
      const tokens = await signIn(who);
      const res = await rest.get('/v1/admin/users', tokens.auth_token);
      expect([res.status, res.body['code']]).toEqual([403, 'PERMISSION_DENIED']);
      const patch = await rest.patch(`/v1/admin/users/${who.userId}`, { role: 'admin' }, tokens.auth_token);
      expect(patch.body['code']).toBe('PERMISSION_DENIED');
      await expect(
        admin.call('listUsers', { authToken: tokens.auth_token, limit: 10, offset: 0, filter: '' }),
      ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    });

    it('pages users, changes roles, and deactivation stops login and every token', async () => {
      const adminTokens = await signIn({ ...ADMIN, ip: '10.250.0.2' });
      await register();
      const who = await register();
      const userTokens = await signIn(who);
      const page = await rest.get<{ users: unknown[]; total_count: number }>(
        '/v1/admin/users?limit=2&offset=0',
        adminTokens.auth_token,
      );
      expect(page.body.users).toHaveLength(2);
      expect(page.body.total_count).toBeGreaterThan(2);

      const promoted = await admin.call('updateUser', { authToken: adminTokens.auth_token, userId: who.userId, role: 'premium' });
      expect(promoted).toMatchObject({ role: 'premium', active: true });
      // Old tokens carry the old role: they are revoked, and a refresh brings the new one.
      expect((await me(userTokens.auth_token)).body['code']).toBe('TOKEN_REVOKED');
      const fresh = await signIn(who);
      expect((await me(fresh.auth_token)).body['role']).toBe('premium');

      const deactivated = await rest.patch(`/v1/admin/users/${who.userId}`, { active: false }, adminTokens.auth_token);
      expect(deactivated.body).toMatchObject({ active: false });
      expect((await me(fresh.auth_token)).body['code']).toBe('TOKEN_REVOKED');
      expect((await rest.post('/v1/auth/refresh', { refresh_token: fresh.refresh_token })).body['code']).toBe('TOKEN_REVOKED');
      const login = await rest.withIp(who.ip).post('/v1/auth/login', { username: who.username, password: who.password });
      expect(login.body['code']).toBe('INVALID_CREDENTIALS');
      const unknown = await rest.patch(
        '/v1/admin/users/00000000-0000-4000-8000-000000000000',
        { active: false },
        adminTokens.auth_token,
      );
      expect([unknown.status, unknown.body['code']]).toEqual([404, 'NOT_FOUND']);
    });
  });

  describe('audit and secrets at rest', () => {
    async function sql<T extends object>(text: string, values: unknown[] = []): Promise<T[]> {
      const pg = new Client({ connectionString: String(cluster.env['DATABASE_URL']) });
      await pg.connect();
      try {
        return (await pg.query<T>(text, values)).rows;
      } finally {
        await pg.end();
      }
    }

    it('audits registrations, logins, failures, lockouts, refreshes, logouts and admin changes', async () => {
      // Every kind of event, caused here by one user, so the test stands alone.
      const who = await register();
      const first = await signIn(who);
      const mailsBefore = smtp.mailsTo(who.email).length;
      const pending = await rest.withIp(who.ip).post('/v1/auth/login', { username: who.username, password: who.password });
      const wrong = (await smtp.codeFor(who.email, mailsBefore)) === '000000' ? '111111' : '000000';
      const refused = await rest
        .withIp(who.ip)
        .post('/v1/auth/verify-otp', { session_id: pending.body['session_id'], otp: wrong });
      expect(refused.body['code']).toBe('INVALID_OTP');
      const rotated = await rest.withIp(who.ip).post('/v1/auth/refresh', { refresh_token: first.refresh_token });
      expect(rotated.status).toBe(200);
      expect((await rest.withIp(who.ip).post('/v1/auth/refresh', { refresh_token: first.refresh_token })).status).toBe(401);
      const second = await signIn(who);
      expect((await rest.post('/v1/auth/logout', {}, second.auth_token)).status).toBe(200);
      const adminTokens = await signIn({ ...ADMIN, ip: '10.250.0.3' });
      const promoted = await rest.patch(`/v1/admin/users/${who.userId}`, { role: 'premium' }, adminTokens.auth_token);
      expect(promoted.status).toBe(200);
      for (let i = 0; i < 6; i += 1) {
        await rest.withIp(identity().ip).post('/v1/auth/login', { username: who.username, password: `Wrong-${i}-Password!` });
      }

      const wanted = [
        'auth.register/success',
        'auth.login_password/success',
        'auth.login/success',
        'auth.login/failure',
        'auth.otp/failure',
        'auth.lockout/failure',
        'auth.refresh/success',
        'auth.refresh_reuse/failure',
        'auth.logout/success',
        'admin.user_update/success',
      ];
      const rows = await waitFor(
        'every kind of auth event of the user in the audit log',
        async () => {
          const found = await sql<{ operation: string; status: string; client_address: string | null }>(
            // An admin's change is the admin's event, naming its subject.
            `SELECT operation, status, client_address FROM metadata.audit_log WHERE user_id = $1::uuid OR subject_user_id = $1::uuid`,
            [who.userId],
          );
          const kinds = new Set(found.map((r) => `${r.operation}/${r.status}`));
          const missing = wanted.filter((kind) => !kinds.has(kind));
          if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}`);
          return found;
        },
        20_000,
      );
      expect(rows.find((r) => r.operation === 'auth.register')?.client_address).toBe(who.ip);
      const bootstrap = await sql('SELECT 1 FROM metadata.audit_log WHERE operation = $1', ['admin.bootstrap']);
      expect(bootstrap).toHaveLength(1);
    });

    it('keeps no plaintext password, code or recovery code in the database; hashes are argon2id', async () => {
      // Secrets of its own: a password, a mailed code and recovery codes.
      const who = await register({ ...identity(), password: `Pl41n-${randomBytes(6).toString('hex')}!` });
      const secrets: string[] = [who.password];
      const codesBefore = plaintexts.length;
      const tokens = await signIn(who);
      const secret = (await rest.withIp(who.ip).post('/v1/auth/totp/enroll', { password: who.password }, tokens.auth_token)).body[
        'secret'
      ] as string;
      const confirmed = await rest
        .withIp(who.ip)
        .post('/v1/auth/totp/confirm', { code: await generate({ secret }) }, tokens.auth_token);
      const recoveryCodes = confirmed.body['recovery_codes'] as string[];
      expect(recoveryCodes).toHaveLength(10);
      // (The authenticator secret itself must be kept to check codes: it is not among them.)
      secrets.push(...recoveryCodes, ...plaintexts.slice(codesBefore), ADMIN.password);

      const dump = execFileSync('pg_dump', ['--data-only', String(cluster.env['DATABASE_URL'])], {
        maxBuffer: 256 * 1024 * 1024,
      }).toString('utf8');
      // A code is six digits: look for it as a value of its own, not inside timestamps, uuids or hashes.
      const visible = (value: string) =>
        new RegExp(`(?<![0-9A-Za-z.+/$-])${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![0-9A-Za-z])`).test(dump);
      // The search itself finds what is there: the user's id and name are stored in the clear.
      expect([who.userId, who.username].every(visible)).toBe(true);
      expect(secrets.length).toBe(13);
      expect(secrets.filter(visible)).toEqual([]);
      const hashes = await sql<{ username: string; password_hash: string }>(
        'SELECT username, password_hash FROM auth.users WHERE id = $1 OR username = $2',
        [who.userId, ADMIN.username],
      );
      expect(hashes).toHaveLength(2);
      // The default cost (ARGON2_*): OWASP's baseline, 19 MiB and 2 passes on 1 lane.
      for (const { password_hash: hash } of hashes) expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    });
  });
});

describe('auth with short lifetimes', () => {
  let cluster: ClusterProcess;
  let rest: RestClient;

  beforeAll(async () => {
    cluster = await ClusterProcess.start({ OTP_TTL_SECONDS: '2', ACCESS_TOKEN_TTL_SECONDS: '2', STORAGE_NODES: '1' }, 1);
    await cluster.waitUntilReady();
    rest = new RestClient(cluster.httpUrl);
  });

  afterAll(async () => {
    await cluster?.destroy();
  });

  it('answers an expired code with OTP_EXPIRED and an expired access token with TOKEN_EXPIRED; refresh still works', async () => {
    const who = identity();
    await rest.post('/v1/auth/register', { username: who.username, email: who.email, password: PASSWORD });
    // Without SMTP_URL the codes land in DATA_DIR/outbox as .eml files.
    const codeFromOutbox = async () => {
      const { readdir, readFile } = await import('node:fs/promises');
      const dir = `${cluster.dataDir}/outbox`;
      return waitFor(
        'a code in the outbox',
        async () => {
          const files = (await readdir(dir).catch(() => [] as string[])).sort();
          for (const file of files.reverse()) {
            const text = await readFile(`${dir}/${file}`, 'utf8');
            if (text.includes(`To: ${who.email}`)) return /sign-in code is (\d{6})/.exec(text)?.[1];
          }
          return undefined;
        },
        10_000,
      );
    };
    const first = await rest.post('/v1/auth/login', { username: who.username, password: PASSWORD });
    const staleCode = await codeFromOutbox();
    const otpExpiresAt = first.body['otp_expires_at'] as number;
    await waitFor('the code expired', () => Date.now() / 1000 > otpExpiresAt, 10_000, 100);
    const expired = await rest.post('/v1/auth/verify-otp', { session_id: first.body['session_id'], otp: staleCode });
    expect([expired.status, expired.body['code']]).toEqual([401, 'OTP_EXPIRED']);

    const second = await rest.post('/v1/auth/login', { username: who.username, password: PASSWORD });
    await waitFor('a second outbox mail', async () => (await codeFromOutbox()) !== staleCode || undefined, 10_000).catch(
      () => undefined,
    );
    const verified = await rest.post('/v1/auth/verify-otp', {
      session_id: second.body['session_id'],
      otp: await codeFromOutbox(),
    });
    expect(verified.status).toBe(200);
    const late = await waitFor(
      'the access token expired',
      async () => {
        const res = await rest.get('/v1/auth/me', verified.body['auth_token'] as string);
        return res.status === 200 ? undefined : res;
      },
      10_000,
      250,
    );
    expect([late.status, late.body['code']]).toEqual([401, 'TOKEN_EXPIRED']);
    const refreshed = await rest.post('/v1/auth/refresh', { refresh_token: verified.body['refresh_token'] });
    expect((await rest.get('/v1/auth/me', refreshed.body['auth_token'] as string)).status).toBe(200);
  });
});
