import { randomBytes } from 'node:crypto';
import type { ServiceError } from '@grpc/grpc-js';
import { DomainError, ERROR_CATALOGUE, ERROR_CODE_METADATA_KEY, type ErrorCode, isErrorCode } from '@cloudstore/contracts';
import { waitFor } from '@cloudstore/testing';
import { adminGrpcClient, type RestResponse } from './support/api-clients';
import { signInAs, signUp, TEST_PASSWORD } from './support/accounts';
import { grpcDownload, grpcUpload, restUpload, sha256 } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const ADMIN = { username: 'parity_admin', email: 'parity_admin@example.com', password: 'Admin-Passw0rd-2026!' };
const CHUNK = 1024 * 1024;
const NO_SUCH_FILE = '00000000-0000-4000-8000-000000000000';

/** A failed REST call's code, checked against its HTTP status in the catalogue. */
function restCode(res: RestResponse): ErrorCode {
  const code = res.body['code'] as ErrorCode;
  expect(res.status).toBe(ERROR_CATALOGUE[code].http);
  return code;
}

/** A gRPC call's failure code, or a marker when it did not fail. */
async function grpcCode(call: Promise<unknown>): Promise<ErrorCode | 'OK'> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    // A stream call's ServiceError: the code is in the trailing metadata, beside its gRPC status.
    const serviceError = error as Partial<ServiceError>;
    const code = serviceError.metadata?.get(ERROR_CODE_METADATA_KEY)[0];
    if (!isErrorCode(code)) throw error;
    expect(serviceError.code).toBe(ERROR_CATALOGUE[code].grpc);
    return code;
  }
}

/**
 * REST and gRPC are two doors to the same service calls: every operation that has both is run
 * through each, and their answers and error codes must agree.
 */
describe('REST and gRPC parity', () => {
  const env = TestCluster.perFile({ LOG_LEVEL: 'info', CHUNK_SIZE_BYTES: String(CHUNK) }, { admin: ADMIN });
  let adminGrpc: ReturnType<typeof adminGrpcClient>;

  beforeAll(() => {
    adminGrpc = adminGrpcClient(`127.0.0.1:${env.cluster.ports.grpc}`);
  });

  afterAll(() => adminGrpc?.close());

  const call = <K extends Parameters<typeof env.grpc.call>[0]>(method: K, request: Parameters<typeof env.grpc.call<K>>[1]) =>
    env.grpc.call(method, request);
  const name = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;

  describe('accounts', () => {
    it('register: both doors create an account and refuse the same bad input with the same code', async () => {
      const viaRest = name('par_reg');
      const viaGrpc = name('par_reg');
      const created = await env.rest.post('/v1/auth/register', {
        username: viaRest,
        email: `${viaRest}@example.com`,
        password: TEST_PASSWORD,
      });
      expect(created.status).toBe(201);
      const registered = await call('register', { username: viaGrpc, email: `${viaGrpc}@example.com`, password: TEST_PASSWORD });
      expect(registered).toMatchObject({ success: true });
      expect(typeof created.body['user_id']).toBe('string');
      expect(registered.userId).toEqual(expect.any(String));

      const cases = [
        { username: viaGrpc, email: `${name('x')}@example.com`, password: TEST_PASSWORD },
        { username: name('par'), email: `${viaRest}@example.com`, password: TEST_PASSWORD },
        { username: 'no', email: `${name('x')}@example.com`, password: TEST_PASSWORD },
        { username: name('par'), email: 'not-an-email', password: TEST_PASSWORD },
        { username: name('par'), email: `${name('x')}@example.com`, password: 'password' },
      ];
      const codes = [];
      for (const input of cases) {
        codes.push([restCode(await env.rest.post('/v1/auth/register', input)), await grpcCode(call('register', input))]);
      }
      expect(codes).toEqual([
        ['USERNAME_TAKEN', 'USERNAME_TAKEN'],
        ['EMAIL_TAKEN', 'EMAIL_TAKEN'],
        ['INVALID_USERNAME', 'INVALID_USERNAME'],
        ['INVALID_EMAIL', 'INVALID_EMAIL'],
        ['WEAK_PASSWORD', 'WEAK_PASSWORD'],
      ]);
    });

    it('login, verify-otp and refresh: the same steps, answers and error codes through both doors', async () => {
      const user = await signUp(env.rest, env.smtp, 'par_login');
      expect([
        restCode(await env.rest.post('/v1/auth/login', { username: user.username, password: 'Wrong-Passw0rd-1' })),
        await grpcCode(call('login', { username: user.username, password: 'Wrong-Passw0rd-1' })),
      ]).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS']);

      let mails = env.smtp.mailsTo(user.email).length;
      const restLogin = await env.rest.post('/v1/auth/login', { username: user.username, password: user.password });
      const restOtp = await env.smtp.codeFor(user.email, mails);
      mails = env.smtp.mailsTo(user.email).length;
      const grpcLogin = await call('login', { username: user.username, password: user.password });
      const grpcOtp = await env.smtp.codeFor(user.email, mails);
      expect(restLogin.body).toMatchObject({ otp_method: 'email' });
      expect(grpcLogin).toMatchObject({ success: true, otpMethod: 'email' });
      // A new login replaces the pending one, through either door.
      expect([
        restCode(await env.rest.post('/v1/auth/verify-otp', { session_id: restLogin.body['session_id'], otp: restOtp })),
      ]).toEqual(['SESSION_NOT_FOUND']);
      expect([
        restCode(await env.rest.post('/v1/auth/verify-otp', { session_id: 'no-such-session', otp: '123456' })),
        await grpcCode(call('verifyOtp', { sessionId: 'no-such-session', otp: '123456' })),
      ]).toEqual(['SESSION_NOT_FOUND', 'SESSION_NOT_FOUND']);
      const wrongOtp = grpcOtp === '000000' ? '111111' : '000000';
      expect(await grpcCode(call('verifyOtp', { sessionId: grpcLogin.sessionId, otp: wrongOtp }))).toBe('INVALID_OTP');
      const verified = await call('verifyOtp', { sessionId: grpcLogin.sessionId, otp: grpcOtp });
      expect(verified).toMatchObject({ success: true, tokenType: 'Bearer' });

      // Refresh: each door rotates, and both refuse a used refresh token and a made-up one alike.
      const viaRest = await env.rest.post('/v1/auth/refresh', { refresh_token: verified.refreshToken });
      expect(viaRest.status).toBe(200);
      const viaGrpc = await call('refreshToken', { refreshToken: viaRest.body['refresh_token'] as string, currentToken: '' });
      expect(viaGrpc).toMatchObject({ success: true, tokenType: 'Bearer' });
      expect(Object.keys(viaRest.body)).toEqual(expect.arrayContaining(['auth_token', 'refresh_token', 'expires_at']));
      expect([
        restCode(await env.rest.post('/v1/auth/refresh', { refresh_token: 'made-up' })),
        await grpcCode(call('refreshToken', { refreshToken: 'made-up', currentToken: '' })),
      ]).toEqual(['TOKEN_INVALID', 'TOKEN_INVALID']);
      // A still-valid access token renews alone, through either door; neither answers a refresh token.
      const renewedRest = await env.rest.post('/v1/auth/refresh', { current_token: viaGrpc.newToken });
      // Renewal retires the token it was given: each door renews the one the other answered.
      const renewedGrpc = await call('refreshToken', {
        refreshToken: '',
        currentToken: renewedRest.body['auth_token'] as string,
      });
      expect(renewedRest.body['refresh_token']).toBeUndefined();
      expect(renewedGrpc.refreshToken).toBe('');
      expect([typeof renewedRest.body['auth_token'], typeof renewedGrpc.newToken]).toEqual(['string', 'string']);
      expect([
        restCode(await env.rest.post('/v1/auth/refresh', {})),
        await grpcCode(call('refreshToken', { refreshToken: '', currentToken: '' })),
      ]).toEqual(['INVALID_ARGUMENT', 'INVALID_ARGUMENT']);
      // Reusing a rotated token revokes the whole sign-in: the second door sees it revoked too.
      expect(restCode(await env.rest.post('/v1/auth/refresh', { refresh_token: verified.refreshToken }))).toBe('TOKEN_REVOKED');
      expect(await grpcCode(call('refreshToken', { refreshToken: verified.refreshToken, currentToken: '' }))).toBe(
        'TOKEN_REVOKED',
      );
    });
    it('password change, reset, sessions and logout-all: the same answers and codes through both doors', async () => {
      const user = await signUp(env.rest, env.smtp, 'par_acct');
      const other = await signInAs(env.rest, env.smtp, user);
      const restChange = (token: string, current: string, next: string) =>
        env.rest.post('/v1/auth/password', { current_password: current, new_password: next }, token);
      const grpcChange = (token: string, currentPassword: string, newPassword: string) =>
        call('changePassword', { authToken: token, currentPassword, newPassword });

      // Sessions: both doors list the same sign-ins, each marking its own.
      const restList = await env.rest.get<{ sessions: Record<string, unknown>[] }>('/v1/auth/sessions', user.token);
      const grpcList = await call('listSessions', { authToken: other.token });
      expect(restList.body.sessions.map((s) => s['session_id'])).toEqual(grpcList.sessions.map((s) => s.sessionId));
      expect(restList.body.sessions.map((s) => s['current'])).toEqual(grpcList.sessions.map((s) => !s.current));
      expect([
        restCode(await env.rest.request('DELETE', `/v1/auth/sessions/${NO_SUCH_FILE}`, { token: user.token })),
        await grpcCode(call('revokeSession', { authToken: user.token, sessionId: NO_SUCH_FILE })),
      ]).toEqual(['NOT_FOUND', 'NOT_FOUND']);

      // Password change: the same refusals, and either door ends the other sessions only.
      expect([
        restCode(await restChange(user.token, 'Not-The-Secret-42!', 'Brand-New-Secret-42!')),
        await grpcCode(grpcChange(user.token, 'Not-The-Secret-42!', 'Brand-New-Secret-42!')),
        restCode(await restChange(user.token, user.password, 'weak')),
        await grpcCode(grpcChange(user.token, user.password, 'weak')),
      ]).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'WEAK_PASSWORD', 'WEAK_PASSWORD']);
      expect(await grpcChange(user.token, user.password, 'Brand-New-Secret-42!')).toMatchObject({ success: true });
      expect(restCode(await env.rest.get('/v1/auth/me', other.token))).toBe('TOKEN_REVOKED');
      expect((await restChange(user.token, 'Brand-New-Secret-42!', user.password)).status).toBe(200);
      expect((await env.rest.get('/v1/auth/me', user.token)).status).toBe(200);

      // Reset: the same answer for a known and an unknown address; the link works once, through either door.
      const restReset = await env.rest.post('/v1/auth/password-reset', { email: user.email });
      const grpcReset = await call('requestPasswordReset', { email: `nobody_${randomBytes(4).toString('hex')}@example.com` });
      expect([restReset.status, restReset.body['message']]).toEqual([202, grpcReset.message]);
      expect([
        restCode(await env.rest.post('/v1/auth/password-reset', { email: 'not-an-address' })),
        await grpcCode(call('requestPasswordReset', { email: 'not-an-address' })),
      ]).toEqual(['INVALID_EMAIL', 'INVALID_EMAIL']);
      const token = await env.smtp.resetTokenFor(user.email);
      expect([
        restCode(await env.rest.post('/v1/auth/password-reset/confirm', { token, new_password: 'weak' })),
        await grpcCode(call('confirmPasswordReset', { token, newPassword: 'weak' })),
      ]).toEqual(['WEAK_PASSWORD', 'WEAK_PASSWORD']);
      expect(await call('confirmPasswordReset', { token, newPassword: 'Reset-New-Secret-42!' })).toMatchObject({ success: true });
      expect([
        restCode(await env.rest.post('/v1/auth/password-reset/confirm', { token, new_password: 'Reset-Other-Secret-42!' })),
        await grpcCode(call('confirmPasswordReset', { token, newPassword: 'Reset-Other-Secret-42!' })),
      ]).toEqual(['TOKEN_INVALID', 'TOKEN_INVALID']);
      expect(restCode(await env.rest.get('/v1/auth/me', user.token))).toBe('TOKEN_REVOKED');

      // Sign out everywhere, through each door.
      const renewed = { ...user, password: 'Reset-New-Secret-42!' };
      const [first, second] = [await signInAs(env.rest, env.smtp, renewed), await signInAs(env.rest, env.smtp, renewed)];
      expect(await call('logoutAll', { authToken: first.token })).toMatchObject({ success: true });
      expect(restCode(await env.rest.get('/v1/auth/me', second.token))).toBe('TOKEN_REVOKED');
      const third = await signInAs(env.rest, env.smtp, renewed);
      expect((await env.rest.post('/v1/auth/logout-all', {}, third.token)).status).toBe(200);
      expect([
        restCode(await env.rest.get('/v1/auth/sessions', third.token)),
        await grpcCode(call('listSessions', { authToken: third.token })),
      ]).toEqual(['TOKEN_REVOKED', 'TOKEN_REVOKED']);
    });
  });

  describe('files', () => {
    it('REST pages a listing by cursor as well as by offset: every file once, newest first', async () => {
      const user = await signUp(env.rest, env.smtp, 'par_pages');
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1)
        ids.push(await restUpload(env.cluster.httpUrl, user.token, `page-${i}.txt`, randomBytes(10)));
      type Page = { files: { file_id: string }[]; total_count: number; next_cursor?: string };
      const walked: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 5; pages += 1) {
        const page = await env.rest.get<Page>(`/v1/files?limit=2${cursor ? `&after=${cursor}` : ''}`, user.token);
        expect(page.body.total_count).toBe(5);
        walked.push(...page.body.files.map((f) => f.file_id));
        cursor = page.body.next_cursor;
        if (!cursor) break;
      }
      expect(walked).toEqual([...ids].reverse());
      const byOffset = await env.rest.get<Page>('/v1/files?limit=2&offset=4', user.token);
      expect(byOffset.body).toEqual({ files: [expect.objectContaining({ file_id: ids[0] })], total_count: 5 });
      const first = await env.rest.get<Page>('/v1/files?limit=2', user.token);
      expect([
        restCode(await env.rest.get(`/v1/files?limit=2&offset=2&after=${first.body.next_cursor ?? ''}`, user.token)),
        restCode(await env.rest.get('/v1/files?after=not-a-cursor', user.token)),
      ]).toEqual(['INVALID_ARGUMENT', 'INVALID_ARGUMENT']);
    });

    it('upload, list, file info, download, delete and quota agree between the doors', async () => {
      const user = await signUp(env.rest, env.smtp, 'par_files');
      const data = randomBytes(300_000);
      const restId = await restUpload(env.cluster.httpUrl, user.token, 'same.bin', data);
      const uploaded = await grpcUpload(env.grpc, user.token, 'same.bin', data).done;
      expect(uploaded).toMatchObject({ success: true, fileSize: data.length, checksum: sha256(data) });
      const restInfo = await env.rest.get(`/v1/files/${restId}`, user.token);
      expect(restInfo.body).toMatchObject({ file_size: data.length, checksum: sha256(data), filename: 'same.bin' });

      const restList = await env.rest.get<{
        files: { file_id: string; file_size: number; checksum: string }[];
        total_count: number;
      }>('/v1/files', user.token);
      const grpcList = await call('listFiles', { authToken: user.token, limit: 0, offset: 0, filter: '' });
      const restFiles = restList.body.files.map((f) => [f.file_id, f.file_size, f.checksum]).sort();
      const grpcFiles = grpcList.files.map((f) => [f.fileId, f.fileSize, f.checksum]).sort();
      expect(grpcFiles).toEqual(restFiles);
      expect([grpcList.totalCount, restList.body.total_count]).toEqual([2, 2]);
      expect(restFiles.map(([id]) => id).sort()).toEqual([restId, uploaded.fileId].sort());

      // Each door reads what the other wrote.
      const viaGrpc = await grpcDownload(env.grpc, user.token, restId);
      const viaRest = await fetch(`${env.cluster.httpUrl}/v1/files/${uploaded.fileId}/content`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      expect(sha256(viaGrpc.data)).toBe(sha256(data));
      expect(sha256(Buffer.from(await viaRest.arrayBuffer()))).toBe(sha256(data));

      const restQuota = await env.rest.get('/v1/quota', user.token);
      const grpcQuota = await call('getQuotaStatus', { authToken: user.token });
      expect({
        total: grpcQuota.totalQuotaBytes,
        used: grpcQuota.usedBytes,
        available: grpcQuota.availableBytes,
        percentage: grpcQuota.usagePercentage,
        unlimited: grpcQuota.unlimited,
      }).toEqual({
        total: restQuota.body['total_quota_bytes'],
        used: restQuota.body['used_bytes'],
        available: restQuota.body['available_bytes'],
        percentage: restQuota.body['usage_percentage'],
        unlimited: restQuota.body['unlimited'],
      });
      expect(grpcQuota.usedBytes).toBe(2 * data.length);
      expect(grpcQuota.availableBytes).toBe(grpcQuota.totalQuotaBytes - grpcQuota.usedBytes);

      // Another user's file does not exist, through either door.
      const other = await signUp(env.rest, env.smtp, 'par_other');
      const stranger = [
        restCode(await env.rest.get(`/v1/files/${restId}/content`, other.token)),
        restCode(await env.rest.request('DELETE', `/v1/files/${restId}`, { token: other.token })),
        await grpcCode(grpcDownload(env.grpc, other.token, restId)),
        await grpcCode(call('deleteFile', { authToken: other.token, fileId: restId })),
      ];
      expect(stranger).toEqual(Array(4).fill('FILE_NOT_FOUND'));
      expect([
        restCode(await env.rest.get('/v1/files?limit=-1', user.token)),
        await grpcCode(call('listFiles', { authToken: user.token, limit: -1, offset: 0, filter: '' })),
      ]).toEqual(['INVALID_ARGUMENT', 'INVALID_ARGUMENT']);
      expect([
        restCode(await env.rest.get('/v1/files', 'not-a-token')),
        await grpcCode(call('listFiles', { authToken: 'not-a-token', limit: 0, offset: 0, filter: '' })),
      ]).toEqual(['TOKEN_INVALID', 'TOKEN_INVALID']);

      const restDelete = await env.rest.request('DELETE', `/v1/files/${restId}`, { token: user.token });
      const grpcDelete = await call('deleteFile', { authToken: user.token, fileId: uploaded.fileId });
      expect([restDelete.body['freed_bytes'], grpcDelete.freedBytes]).toEqual([data.length, data.length]);
    });

    it('trash list, restore and purge agree between the doors', async () => {
      const user = await signUp(env.rest, env.smtp, 'par_trash');
      const data = randomBytes(50_000);
      const first = await restUpload(env.cluster.httpUrl, user.token, 'one.bin', data);
      const second = await restUpload(env.cluster.httpUrl, user.token, 'two.bin', data);
      for (const id of [first, second]) await env.rest.request('DELETE', `/v1/files/${id}`, { token: user.token });

      const restTrash = await env.rest.get<{
        files: { file_id: string; deleted_at: number; purge_at: number }[];
        total_count: number;
      }>('/v1/trash', user.token);
      const grpcTrash = await call('listTrash', { authToken: user.token, limit: 0, offset: 0 });
      expect(grpcTrash.files.map((f) => [f.fileId, f.deletedAt, f.purgeAt])).toEqual(
        restTrash.body.files.map((f) => [f.file_id, f.deleted_at, f.purge_at]),
      );
      expect([grpcTrash.totalCount, restTrash.body.total_count]).toEqual([2, 2]);

      const restored = await env.rest.post(`/v1/trash/${first}/restore`, {}, user.token);
      const grpcRestored = await call('restoreFile', { authToken: user.token, fileId: second });
      expect(restored.body).toMatchObject({ file_id: first, file_size: data.length, checksum: sha256(data) });
      expect(grpcRestored.file).toMatchObject({ fileId: second, fileSize: data.length, checksum: sha256(data) });
      expect([
        restCode(await env.rest.post(`/v1/trash/${first}/restore`, {}, user.token)),
        await grpcCode(call('restoreFile', { authToken: user.token, fileId: second })),
      ]).toEqual(['FILE_NOT_FOUND', 'FILE_NOT_FOUND']);

      for (const id of [first, second]) await env.rest.request('DELETE', `/v1/files/${id}`, { token: user.token });
      const restPurge = await env.rest.request('DELETE', `/v1/trash/${first}`, { token: user.token });
      const grpcPurge = await call('purgeFile', { authToken: user.token, fileId: second });
      expect([restPurge.body['purged_bytes'], grpcPurge.purgedBytes]).toEqual([data.length, data.length]);
      expect([
        restCode(await env.rest.request('DELETE', `/v1/trash/${NO_SUCH_FILE}`, { token: user.token })),
        await grpcCode(call('purgeFile', { authToken: user.token, fileId: NO_SUCH_FILE })),
      ]).toEqual(['FILE_NOT_FOUND', 'FILE_NOT_FOUND']);
    });

    it('an unlimited quota says so through both doors: total 0, unlimited true', async () => {
      const restQuota = await env.rest.get('/v1/quota', env.admin.token);
      const grpcQuota = await call('getQuotaStatus', { authToken: env.admin.token });
      expect(restQuota.body).toMatchObject({ total_quota_bytes: 0, unlimited: true, usage_percentage: 0 });
      expect(grpcQuota).toMatchObject({ success: true, totalQuotaBytes: 0, unlimited: true, usagePercentage: 0 });
      expect(grpcQuota.availableBytes).toBeGreaterThan(0);
    });

    it('a client that cancels a gRPC upload is logged as a normal event: one info line, no error', async () => {
      const user = await signUp(env.rest, env.smtp, 'par_cancel');
      const { call: upload, done } = grpcUpload(env.grpc, user.token, 'cancelled.bin', randomBytes(2 * CHUNK), {
        pieceSize: CHUNK / 4,
        stopAfter: CHUNK + CHUNK / 2,
      });
      await waitFor('a chunk written', async () => {
        const rows = await env.pg.query<{ n: string }>(
          `SELECT count(*) AS n FROM metadata.chunks c JOIN metadata.uploads u ON u.id = c.upload_id WHERE u.owner_id = $1`,
          [user.userId],
        );
        return Number(rows.rows[0]?.n) >= 1 || undefined;
      });
      upload.cancel();
      await expect(done).rejects.toMatchObject({ code: 1 });
      const line = await waitFor('the cancel to be logged', () =>
        env.cluster.lines.find((l) => l.includes('client cancelled the call') && l.includes('UploadFile')),
      );
      const entry = JSON.parse(line.slice(line.indexOf('{'))) as { level: string; err?: unknown };
      expect(entry.level).toBe('info');
      expect(entry.err).toBeUndefined();
      expect(env.cluster.lines.filter((l) => l.includes('unexpected error while handling a stream'))).toEqual([]);
    });
  });

  describe('administration', () => {
    it('update user: quota_bytes, role and active take effect through either door', async () => {
      const user = await signUp(env.rest, env.smtp, 'par_admin');
      const viaGrpc = await adminGrpc.call('updateUser', { authToken: env.admin.token, userId: user.userId, quotaBytes: 12_345 });
      expect(viaGrpc).toMatchObject({ userId: user.userId, role: 'basic', quotaBytes: 12_345, usedBytes: 0 });
      expect((await env.rest.get('/v1/quota', user.token)).body).toMatchObject({ total_quota_bytes: 12_345, unlimited: false });

      const viaRest = await env.rest.patch(`/v1/admin/users/${user.userId}`, { quota_bytes: 23_456 }, env.admin.token);
      expect(viaRest.body).toMatchObject({ user_id: user.userId, role: 'basic', quota_bytes: 23_456, used_bytes: 0 });
      expect(await call('getQuotaStatus', { authToken: user.token })).toMatchObject({
        totalQuotaBytes: 23_456,
        unlimited: false,
      });

      // -1 returns to the role's default, through either door.
      const back = await adminGrpc.call('updateUser', { authToken: env.admin.token, userId: user.userId, quotaBytes: -1 });
      const restBack = await env.rest.patch(`/v1/admin/users/${user.userId}`, { quota_bytes: -1 }, env.admin.token);
      expect(back.quotaBytes).toBe(restBack.body['quota_bytes']);
      expect(back.quotaBytes).toBeGreaterThan(23_456);

      // A role change ends the user's sign-ins (the role is in the token); both doors answer the new account.
      const premium = await adminGrpc.call('updateUser', { authToken: env.admin.token, userId: user.userId, role: 'premium' });
      const basic = await env.rest.patch(`/v1/admin/users/${user.userId}`, { role: 'basic' }, env.admin.token);
      expect([premium.role, basic.body['role']]).toEqual(['premium', 'basic']);
      const inactive = await adminGrpc.call('updateUser', { authToken: env.admin.token, userId: user.userId, active: false });
      const active = await env.rest.patch(`/v1/admin/users/${user.userId}`, { active: true }, env.admin.token);
      expect([inactive.active, active.body['active']]).toEqual([false, true]);

      const listed = await adminGrpc.call('listUsers', {
        authToken: env.admin.token,
        limit: 0,
        offset: 0,
        filter: user.username,
      });
      const restListed = await env.rest.get(`/v1/admin/users?filter=${user.username}`, env.admin.token);
      expect(listed.users.map((u) => u.userId)).toEqual(
        (restListed.body['users'] as { user_id: string }[]).map((u) => u.user_id),
      );

      const unknown = '00000000-0000-4000-8000-000000000000';
      expect([
        restCode(await env.rest.patch(`/v1/admin/users/${unknown}`, { active: false }, env.admin.token)),
        await grpcCode(adminGrpc.call('updateUser', { authToken: env.admin.token, userId: unknown, active: false })),
      ]).toEqual(['NOT_FOUND', 'NOT_FOUND']);
      const plain = await signUp(env.rest, env.smtp, 'par_plain');
      expect([
        restCode(await env.rest.patch(`/v1/admin/users/${user.userId}`, { active: false }, plain.token)),
        await grpcCode(adminGrpc.call('updateUser', { authToken: plain.token, userId: user.userId, active: false })),
      ]).toEqual(['PERMISSION_DENIED', 'PERMISSION_DENIED']);
    });

    it('cluster status and drain agree between the doors', async () => {
      const restStatus = await env.rest.get<{ nodes: { node_id: string; status: string }[] }>(
        '/v1/admin/cluster',
        env.admin.token,
      );
      const grpcStatus = await adminGrpc.call('getClusterStatus', { authToken: env.admin.token });
      expect(grpcStatus.nodes.map((n) => [n.nodeId, n.status]).sort()).toEqual(
        restStatus.body.nodes.map((n) => [n.node_id, n.status]).sort(),
      );
      expect([
        restCode(await env.rest.post('/v1/admin/nodes/no-such-node/drain', {}, env.admin.token)),
        await grpcCode(adminGrpc.call('drainNode', { authToken: env.admin.token, nodeId: 'no-such-node' })),
      ]).toEqual(['NOT_FOUND', 'NOT_FOUND']);
      const user = await signUp(env.rest, env.smtp, 'par_drain');
      expect([
        restCode(await env.rest.post('/v1/admin/nodes/node-0/drain', {}, user.token)),
        await grpcCode(adminGrpc.call('drainNode', { authToken: user.token, nodeId: 'node-0' })),
      ]).toEqual(['PERMISSION_DENIED', 'PERMISSION_DENIED']);
    });

    it('signing key rotation agrees between the doors', async () => {
      const user = await signUp(env.rest, env.smtp, 'par_keys');
      expect([
        restCode(await env.rest.post('/v1/admin/keys/rotate', {}, user.token)),
        await grpcCode(adminGrpc.call('rotateSigningKeys', { authToken: user.token })),
      ]).toEqual(['PERMISSION_DENIED', 'PERMISSION_DENIED']);
      const viaRest = await env.rest.post<{ key_id: string; retiring: { key_id: string }[] }>(
        '/v1/admin/keys/rotate',
        {},
        env.admin.token,
      );
      expect(viaRest.status).toBe(200);
      const viaGrpc = await adminGrpc.call('rotateSigningKeys', { authToken: env.admin.token });
      // Each door rotated once: the key the REST call made is the one the gRPC call retired.
      expect(viaGrpc.retiring.map((k) => k.keyId)).toEqual([viaRest.body.key_id]);
      expect(viaGrpc.keyId).not.toBe(viaRest.body.key_id);
    });
  });
});
