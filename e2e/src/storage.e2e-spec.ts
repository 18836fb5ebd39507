import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { waitFor } from '@cloudstore/testing';
import { signUp, type TestUser } from './support/accounts';
import { chunkFilesOnDisk, grpcDownload, grpcUpload, sha256 } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const CHUNK = 1024 * 1024;
const ROUND_TRIP_SIZES: [string, number][] = [
  ['0 B', 0],
  ['1 B', 1],
  ['exactly one chunk', CHUNK],
  ['one chunk + 1 byte', CHUNK + 1],
  ['50 MiB', 50 * CHUNK],
];
const ADMIN = { username: 'storage_admin', email: 'storage_admin@example.com', password: 'Admin-Passw0rd-2026!' };

describe('storage data path: gateway → metadata → 3 storage nodes, REST and gRPC', () => {
  const env = TestCluster.perFile(
    {
      CHUNK_SIZE_BYTES: String(CHUNK),
      UPLOAD_IDLE_TIMEOUT_SECONDS: '5',
      CHUNK_READ_TIMEOUT_MS: '3000',
    },
    { admin: ADMIN },
  );

  async function put(user: TestUser, filename: string, data: Buffer, headers: Record<string, string> = {}) {
    const res = await fetch(`${env.cluster.httpUrl}/v1/files?filename=${encodeURIComponent(filename)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/octet-stream', ...headers },
      body: data,
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  }

  async function content(user: TestUser, fileId: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${env.cluster.httpUrl}/v1/files/${fileId}/content`, {
      headers: { authorization: `Bearer ${user.token}`, ...headers },
    });
    return { status: res.status, headers: res.headers, data: Buffer.from(await res.arrayBuffer()) };
  }

  async function quotaRow(userId: string) {
    const rows = await env.pg.query<{ used_bytes: string; reserved_bytes: string }>(
      'SELECT used_bytes, reserved_bytes FROM metadata.user_quotas WHERE user_id = $1',
      [userId],
    );
    return { used: Number(rows.rows[0]?.used_bytes ?? 0), reserved: Number(rows.rows[0]?.reserved_bytes ?? 0) };
  }

  async function uncommittedChunks(userId: string): Promise<number> {
    const rows = await env.pg.query<{ n: string }>(
      `SELECT count(*) AS n FROM metadata.chunks c JOIN metadata.uploads u ON u.id = c.upload_id WHERE u.owner_id = $1 AND c.file_id IS NULL`,
      [userId],
    );
    return Number(rows.rows[0]?.n);
  }

  async function setQuota(user: TestUser, bytes: number) {
    const res = await env.rest.patch(`/v1/admin/users/${user.userId}`, { quota_bytes: bytes }, env.admin.token);
    expect(res.status).toBe(200);
  }

  describe('round trips', () => {
    let user: TestUser;
    beforeAll(async () => {
      user = await signUp(env.rest, env.smtp, 'rt');
    });

    it.each(ROUND_TRIP_SIZES)('REST: %s comes back byte-identical, on 3 distinct nodes', async (_label, size) => {
      const data = randomBytes(size);
      const up = await put(user, `rt-${size}.bin`, data);
      expect(up.status).toBe(201);
      expect(up.body).toMatchObject({ file_size: size, checksum: sha256(data), filename: `rt-${size}.bin` });
      expect(new Set(up.body['storage_nodes'] as string[]).size).toBe(size > 0 ? 3 : 0);
      const down = await content(user, up.body['file_id'] as string);
      expect(down.status).toBe(200);
      expect(down.data.length).toBe(size);
      expect(sha256(down.data)).toBe(sha256(data));
      expect(down.headers.get('etag')).toBe(`"${sha256(data)}"`);
    });

    it.each(ROUND_TRIP_SIZES)('gRPC: %s comes back byte-identical, the last message is_final', async (_label, size) => {
      const data = randomBytes(size);
      const response = await grpcUpload(env.grpc, user.token, `grpc-${size}.bin`, data, { pieceSize: 300_000 }).done;
      expect(response).toMatchObject({ success: true, fileSize: size, checksum: sha256(data) });
      expect([...new Set(response.storageNodes)].sort()).toEqual(size > 0 ? ['node-0', 'node-1', 'node-2'] : []);
      const { data: back, finalFlags } = await grpcDownload(env.grpc, user.token, response.fileId);
      expect(sha256(back)).toBe(sha256(data));
      expect(finalFlags.at(-1)).toBe(true);
      expect(finalFlags.slice(0, -1).every((f) => !f)).toBe(true);
    });

    it('serves Range requests with 206 and reads only the chunks needed', async () => {
      const data = randomBytes(3 * CHUNK + 500);
      const { body } = await put(user, 'ranges.bin', data);
      const fileId = body['file_id'] as string;
      const across = await content(user, fileId, { range: `bytes=${CHUNK - 10}-${CHUNK + 9}` });
      expect(across.status).toBe(206);
      expect(across.headers.get('content-range')).toBe(`bytes ${CHUNK - 10}-${CHUNK + 9}/${data.length}`);
      expect(across.data.equals(data.subarray(CHUNK - 10, CHUNK + 10))).toBe(true);
      const tail = await content(user, fileId, { range: 'bytes=-100' });
      expect(tail.data.equals(data.subarray(data.length - 100))).toBe(true);
      const beyond = await content(user, fileId, { range: `bytes=${data.length}-` });
      expect(beyond.status).toBe(416);
      const audit = await env.pg.query(
        `SELECT details FROM metadata.audit_log WHERE file_id = $1 AND operation = 'file.download' AND details ? 'range'`,
        [fileId],
      );
      expect(audit.rows.length).toBeGreaterThanOrEqual(2);
    });

    it('answers If-None-Match with 304 and names the file in Content-Disposition', async () => {
      const data = randomBytes(10);
      const { body } = await put(user, 'naïve résumé.txt', data);
      const first = await content(user, body['file_id'] as string);
      expect(first.headers.get('content-disposition')).toContain(`filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.txt`);
      const again = await content(user, body['file_id'] as string, { 'if-none-match': first.headers.get('etag') ?? '' });
      expect(again.status).toBe(304);
    });

    it('stores path-traversal names sanitised, and refuses names that cannot be made safe', async () => {
      const traversal = await put(user, '../../etc/passwd', Buffer.from('x'));
      expect(traversal.body['filename']).toBe('passwd');
      const windows = await put(user, '..\\..\\boot.ini', Buffer.from('x'));
      expect(windows.body['filename']).toBe('boot.ini');
      for (const name of ['..', '../', 'a'.repeat(300)]) {
        const refused = await put(user, name, Buffer.from('x'));
        expect([refused.status, refused.body['code']]).toEqual([400, 'INVALID_FILENAME']);
      }
      await expect(grpcUpload(env.grpc, user.token, '/', Buffer.from('x')).done).rejects.toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
      });
    });
  });

  describe('encryption at rest', () => {
    it('keeps only ciphertext on the nodes and only a wrapped data key in the database', async () => {
      const user = await signUp(env.rest, env.smtp, 'sealed');
      const data = Buffer.alloc(2 * CHUNK + 100, 'the quick brown fox jumps over the lazy dog. ');
      const { body } = await put(user, 'plain.txt', data);
      const fileId = body['file_id'] as string;
      const chunks = await env.pg.query<{ id: string; index: number; size_bytes: string }>(
        'SELECT id, index, size_bytes FROM metadata.chunks WHERE file_id = $1 ORDER BY index',
        [fileId],
      );
      expect(chunks.rows.map((c) => Number(c.size_bytes))).toEqual([CHUNK + 28, CHUNK + 28, 100 + 28]);
      const onDisk = (await chunkFilesOnDisk(env.cluster.dataDir)).filter((path) => chunks.rows.some((c) => path.endsWith(c.id)));
      expect(onDisk).toHaveLength(9);
      for (const path of onDisk) expect((await readFile(path)).includes('the quick brown fox')).toBe(false);
      // The data key is wrapped by the owner's key, and only that key by the master key.
      const file = await env.pg.query<{
        wrapped_data_key: Buffer;
        wrapped_by_user_key: boolean;
        owner_id: string;
        chunk_size: string;
      }>('SELECT wrapped_data_key, wrapped_by_user_key, owner_id, chunk_size FROM metadata.files WHERE id = $1', [fileId]);
      expect(file.rows[0]?.wrapped_data_key).toHaveLength(32 + 28);
      expect(file.rows[0]?.wrapped_by_user_key).toBe(true);
      const userKey = await env.pg.query<{ wrapped_key: Buffer; master_key_id: string }>(
        'SELECT wrapped_key, master_key_id FROM metadata.user_keys WHERE user_id = $1',
        [file.rows[0]?.owner_id],
      );
      expect(userKey.rows[0]?.wrapped_key).toHaveLength(32 + 28);
      expect(userKey.rows[0]?.master_key_id).toMatch(/^[0-9a-f]{16}$/);
      expect(Number(file.rows[0]?.chunk_size)).toBe(CHUNK);
      expect((await stat(join(env.cluster.dataDir, 'master.key'))).mode & 0o777).toBe(0o600);
      const range = await content(user, fileId, { range: `bytes=${CHUNK - 5}-${CHUNK + 4}` });
      expect(range.data.equals(data.subarray(CHUNK - 5, CHUNK + 5))).toBe(true);
      expect((await content(user, fileId)).data.equals(data)).toBe(true);
    });
  });

  describe('listing', () => {
    it('pages newest first, and filters by a case-insensitive substring where % and _ are literal', async () => {
      const user = await signUp(env.rest, env.smtp, 'list');
      const names = ['100%_done.txt', '100x_done.txt', 'Report_2024.PDF', 'report-2025.pdf', 'notes.md', 'plain%.txt'];
      for (const name of names) await put(user, name, Buffer.from(name));
      const all = await env.rest.get<{ files: { filename: string }[]; total_count: number }>('/v1/files', user.token);
      expect(all.body.total_count).toBe(6);
      expect(all.body.files.map((f) => f.filename)).toEqual([...names].reverse());
      const page = await env.rest.get<{ files: { filename: string }[]; total_count: number }>(
        '/v1/files?limit=2&offset=2',
        user.token,
      );
      expect(page.body.files.map((f) => f.filename)).toEqual(['report-2025.pdf', 'Report_2024.PDF']);
      expect(page.body.total_count).toBe(6);
      const percent = await env.rest.get<{ files: { filename: string }[] }>(
        `/v1/files?filter=${encodeURIComponent('%')}`,
        user.token,
      );
      expect(percent.body.files.map((f) => f.filename).sort()).toEqual(['100%_done.txt', 'plain%.txt']);
      const underscore = await env.rest.get<{ files: { filename: string }[] }>(
        `/v1/files?filter=${encodeURIComponent('0%_')}`,
        user.token,
      );
      expect(underscore.body.files.map((f) => f.filename)).toEqual(['100%_done.txt']);
      const caseless = await env.grpc.call('listFiles', { authToken: user.token, limit: 10, offset: 0, filter: 'REPORT' });
      expect(caseless.files.map((f) => f.filename).sort()).toEqual(['Report_2024.PDF', 'report-2025.pdf']);
      expect(caseless.totalCount).toBe(2);
      const tooMany = await env.rest.get('/v1/files?limit=1001', user.token);
      expect(tooMany.body['code']).toBe('INVALID_ARGUMENT');
    });
  });

  describe('isolation between users', () => {
    it("answers every route for another user's file exactly like a missing file: FILE_NOT_FOUND", async () => {
      const [alice, bob] = [await signUp(env.rest, env.smtp, 'alice'), await signUp(env.rest, env.smtp, 'bob')];
      const { body } = await put(alice, 'private.txt', Buffer.from("Alice's private file"));
      const fileId = body['file_id'] as string;
      const missing = '00000000-0000-4000-8000-000000000000';
      for (const id of [fileId, missing]) {
        expect((await env.rest.get(`/v1/files/${id}`, bob.token)).body).toMatchObject({ status: 404, code: 'FILE_NOT_FOUND' });
        expect((await content(bob, id)).status).toBe(404);
        expect((await env.rest.request('DELETE', `/v1/files/${id}`, { token: bob.token })).body).toMatchObject({
          code: 'FILE_NOT_FOUND',
        });
        await expect(grpcDownload(env.grpc, bob.token, id)).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
        await expect(env.grpc.call('deleteFile', { authToken: bob.token, fileId: id })).rejects.toMatchObject({
          code: 'FILE_NOT_FOUND',
        });
      }
      expect((await env.rest.get<{ total_count: number }>('/v1/files', bob.token)).body.total_count).toBe(0);
      expect((await content(alice, fileId)).data.toString()).toBe("Alice's private file");
      expect((await env.rest.get('/v1/files/not-a-uuid', bob.token)).body['code']).toBe('FILE_NOT_FOUND');
    });

    it('needs a valid token on every file route', async () => {
      for (const [method, path] of [
        ['GET', '/v1/files'],
        ['GET', '/v1/quota'],
        ['PUT', '/v1/files?filename=x'],
      ] as const) {
        const res = await env.rest.request(method, path);
        expect([res.status, res.body['code']]).toEqual([401, 'TOKEN_INVALID']);
      }
      await expect(env.grpc.call('getQuotaStatus', { authToken: 'garbage' })).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    });
  });

  describe('quotas', () => {
    it('reports usage from committed files, and refunds a soft-deleted file at once', async () => {
      const user = await signUp(env.rest, env.smtp, 'quota');
      const data = randomBytes(CHUNK + 123);
      const { body } = await put(user, 'q.bin', data);
      const status = await env.grpc.call('getQuotaStatus', { authToken: user.token });
      expect(status).toMatchObject({
        success: true,
        totalQuotaBytes: 107374182400,
        usedBytes: data.length,
        availableBytes: 107374182400 - data.length,
      });
      expect(status.usagePercentage).toBeCloseTo((data.length / 107374182400) * 100, 2);
      const deleted = await env.rest.request('DELETE', `/v1/files/${body['file_id'] as string}`, { token: user.token });
      expect(deleted.body).toMatchObject({ freed_bytes: data.length });
      expect((await env.rest.get('/v1/quota', user.token)).body).toMatchObject({ used_bytes: 0 });
      expect((await env.rest.get<{ total_count: number }>('/v1/files', user.token)).body.total_count).toBe(0);
      expect((await content(user, body['file_id'] as string)).status).toBe(404);
      const row = await env.pg.query<{ deleted_at: Date | null }>('SELECT deleted_at FROM metadata.files WHERE id = $1', [
        body['file_id'],
      ]);
      expect(row.rows[0]?.deleted_at).toBeInstanceOf(Date);
    });

    it('refuses an upload over the quota with QUOTA_EXCEEDED and leaves nothing behind', async () => {
      const user = await signUp(env.rest, env.smtp, 'over');
      await setQuota(user, 3 * CHUNK);
      const declared = await put(user, 'big.bin', randomBytes(4 * CHUNK));
      expect([declared.status, declared.body['code']]).toEqual([413, 'QUOTA_EXCEEDED']);
      await expect(grpcUpload(env.grpc, user.token, 'big-stream.bin', randomBytes(5 * CHUNK)).done).rejects.toMatchObject({
        code: GrpcStatus.RESOURCE_EXHAUSTED,
      });
      expect((await env.rest.get<{ total_count: number }>('/v1/files', user.token)).body.total_count).toBe(0);
      expect(await quotaRow(user.userId)).toEqual({ used: 0, reserved: 0 });
      await waitFor(
        'the chunks of the refused upload collected',
        async () => (await uncommittedChunks(user.userId)) === 0,
        20_000,
      );
      const audit = await env.pg.query(
        `SELECT error_code FROM metadata.audit_log WHERE user_id = $1 AND operation = 'file.upload' AND status = 'failure'`,
        [user.userId],
      );
      expect(audit.rows.map((r: { error_code: string }) => r.error_code)).toEqual(['QUOTA_EXCEEDED', 'QUOTA_EXCEEDED']);
    });

    it('never overshoots when 4 concurrent uploads race for the last of a quota', async () => {
      const user = await signUp(env.rest, env.smtp, 'race');
      await setQuota(user, 5 * CHUNK);
      const race = (declare: boolean) =>
        Promise.all(
          [0, 1, 2, 3].map((i) =>
            grpcUpload(
              env.grpc,
              user.token,
              `race-${i}.bin`,
              randomBytes(2 * CHUNK),
              declare ? { fileSize: 2 * CHUNK } : {},
            ).done.then(
              () => 'ok',
              (e: ServiceError) => e.metadata.get('error-code')[0],
            ),
          ),
        );
      // Sizes unknown: space is reserved chunk by chunk as the bytes arrive; the two oldest fit
      // and take room from the younger ones (wound-wait), which are refused once they cannot fit.
      const streamed = await race(false);
      const streamedOk = streamed.filter((r) => r === 'ok').length;
      expect(streamedOk).toBe(2);
      expect(streamed.filter((r) => r !== 'ok').every((r) => r === 'QUOTA_EXCEEDED')).toBe(true);
      expect(await quotaRow(user.userId)).toEqual({ used: streamedOk * 2 * CHUNK, reserved: 0 });

      // Sizes declared: each upload reserves its whole size first, so exactly two fit.
      await setQuota(user, streamedOk * 2 * CHUNK + 5 * CHUNK);
      const declared = await race(true);
      expect(declared.filter((r) => r === 'ok')).toHaveLength(2);
      expect(declared.filter((r) => r === 'QUOTA_EXCEEDED')).toHaveLength(2);
      const row = await quotaRow(user.userId);
      expect(row).toEqual({ used: (streamedOk + 2) * 2 * CHUNK, reserved: 0 });
    });

    it('refuses an upload that ends short of its declared size, keeping nothing', async () => {
      const user = await signUp(env.rest, env.smtp, 'short');
      await expect(
        grpcUpload(env.grpc, user.token, 'short.bin', randomBytes(CHUNK), { fileSize: 2 * CHUNK }).done,
      ).rejects.toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
      });
      expect(await quotaRow(user.userId)).toEqual({ used: 0, reserved: 0 });
      expect((await env.rest.get<{ total_count: number }>('/v1/files', user.token)).body.total_count).toBe(0);
    });

    it("lets an admin set a quota and return it to the role's default", async () => {
      const user = await signUp(env.rest, env.smtp, 'setq');
      const custom = await env.rest.patch(`/v1/admin/users/${user.userId}`, { quota_bytes: 12345 }, env.admin.token);
      expect(custom.body).toMatchObject({ quota_bytes: 12345 });
      expect((await env.rest.get('/v1/quota', user.token)).body).toMatchObject({ total_quota_bytes: 12345 });
      const premium = await env.rest.patch(
        `/v1/admin/users/${user.userId}`,
        { quota_bytes: -1, role: 'premium' },
        env.admin.token,
      );
      expect(premium.body).toMatchObject({ role: 'premium', quota_bytes: 1099511627776 });
      const unlimited = await env.rest.get('/v1/quota', env.admin.token);
      expect(unlimited.body).toMatchObject({ total_quota_bytes: 0, unlimited: true });
    });
  });

  describe('failures lose nothing', () => {
    it('a REST client that drops mid-upload leaves no file, no charge and (after collection) no chunk on disk', async () => {
      const user = await signUp(env.rest, env.smtp, 'drop');
      const before = (await chunkFilesOnDisk(env.cluster.dataDir)).length;
      await new Promise<void>((resolve) => {
        const req = httpRequest(`${env.cluster.httpUrl}/v1/files?filename=dropped.bin`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${user.token}`, 'content-length': String(10 * CHUNK) },
        });
        req.on('error', () => resolve());
        req.write(randomBytes(3 * CHUNK + 17), () => setTimeout(() => req.destroy(), 500));
        req.on('close', () => resolve());
      });
      await waitFor('the dropped upload aborted', async () => (await quotaRow(user.userId)).reserved === 0, 10_000);
      expect((await env.rest.get<{ total_count: number }>('/v1/files', user.token)).body.total_count).toBe(0);
      expect(await quotaRow(user.userId)).toEqual({ used: 0, reserved: 0 });
      await waitFor('its chunks collected', async () => (await uncommittedChunks(user.userId)) === 0, 20_000);
      expect((await chunkFilesOnDisk(env.cluster.dataDir)).length).toBe(before);
    });

    it('a gRPC client that cancels mid-upload leaves nothing behind either', async () => {
      const user = await signUp(env.rest, env.smtp, 'cancel');
      const { call, done } = grpcUpload(env.grpc, user.token, 'cancelled.bin', randomBytes(6 * CHUNK), { stopAfter: 3 * CHUNK });
      await waitFor('some chunks written', async () => (await uncommittedChunks(user.userId)) >= 2, 10_000);
      call.cancel();
      await expect(done).rejects.toMatchObject({ code: GrpcStatus.CANCELLED });
      await waitFor(
        'the upload aborted and collected',
        async () => (await uncommittedChunks(user.userId)) === 0 && (await quotaRow(user.userId)).reserved === 0,
        20_000,
      );
      expect((await env.rest.get<{ total_count: number }>('/v1/files', user.token)).body.total_count).toBe(0);
    });

    it('an upload whose gateway dies is aborted by the idle sweep and its chunks collected; the restarted gateway reads earlier files', async () => {
      const user = await signUp(env.rest, env.smtp, 'crash');
      const kept = randomBytes(CHUNK + 3);
      const keptId = (await put(user, 'kept.bin', kept)).body['file_id'] as string;
      const { done } = grpcUpload(env.grpc, user.token, 'orphan.bin', randomBytes(6 * CHUNK), { stopAfter: 3 * CHUNK });
      done.catch(() => undefined);
      await waitFor('some chunks written', async () => (await uncommittedChunks(user.userId)) >= 2, 10_000);
      const gateway = env.cluster.pidOf('gateway') as number;
      process.kill(gateway, 'SIGKILL');
      await waitFor('gateway restarted', () => env.cluster.pidOf('gateway') !== gateway, 20_000);
      await waitFor(
        'the orphaned upload swept and collected',
        async () => (await uncommittedChunks(user.userId)) === 0 && (await quotaRow(user.userId)).reserved === 0,
        40_000,
      );
      const uploads = await env.pg.query(`SELECT status FROM metadata.uploads WHERE owner_id = $1 ORDER BY status`, [
        user.userId,
      ]);
      expect(uploads.rows).toEqual([{ status: 'aborted' }, { status: 'committed' }]);
      await waitFor('cluster ready again', async () => (await fetch(`${env.cluster.httpUrl}/readyz`)).status === 200, 30_000);
      // The restarted gateway read the master key it generated, not a new one.
      expect((await content(user, keptId)).data.equals(kept)).toBe(true);
    });

    it('reads around corrupt replicas and repairs them; fails with CHECKSUM_MISMATCH (never wrong bytes) when no good one is left', async () => {
      const user = await signUp(env.rest, env.smtp, 'corrupt');
      const data = randomBytes(CHUNK / 2);
      const { body } = await put(user, 'fragile.bin', data);
      const fileId = body['file_id'] as string;
      const chunk = await env.pg.query<{ id: string; sha256: string }>(
        'SELECT id, sha256 FROM metadata.chunks WHERE file_id = $1',
        [fileId],
      );
      const chunkId = chunk.rows[0]?.id;
      const copies = (await chunkFilesOnDisk(env.cluster.dataDir)).filter((f) => f.endsWith(chunkId));
      expect(copies).toHaveLength(3);
      const flip = async (path: string) => {
        const bytes = await readFile(path);
        bytes[100] = (bytes[100] ?? 0) ^ 0xff;
        await writeFile(path, bytes);
      };
      const replicaStates = async () =>
        (
          await env.pg.query<{ state: string }>('SELECT state FROM metadata.chunk_replicas WHERE chunk_id = $1', [chunkId])
        ).rows.map((r) => r.state);
      await flip(copies[0]);
      await flip(copies[1]);
      const survived = await content(user, fileId);
      expect(sha256(survived.data)).toBe(sha256(data));
      // The read reported both bad copies: they are rewritten in place from the good one.
      await waitFor(
        'the corrupt replicas repaired',
        async () => {
          const intact = await Promise.all(copies.map(async (path) => sha256(await readFile(path).catch(() => Buffer.alloc(0)))));
          return (
            intact.every((hash) => hash === chunk.rows[0]?.sha256) && (await replicaStates()).every((state) => state === 'ok')
          );
        },
        20_000,
      );
      for (const path of copies) await flip(path);
      const lost = await content(user, fileId);
      expect([lost.status, (JSON.parse(lost.data.toString()) as { code: string }).code]).toEqual([500, 'CHECKSUM_MISMATCH']);
      await expect(grpcDownload(env.grpc, user.token, fileId)).rejects.toMatchObject({ code: GrpcStatus.DATA_LOSS });
      expect(await replicaStates()).toEqual(['corrupt', 'corrupt', 'corrupt']);
    });
  });

  it('audits uploads, downloads and deletes with user, file, name, size and status', async () => {
    const user = await signUp(env.rest, env.smtp, 'audited');
    const { body } = await put(user, 'audit.txt', Buffer.from('audit me'));
    await content(user, body['file_id'] as string);
    await env.rest.request('DELETE', `/v1/files/${body['file_id'] as string}`, { token: user.token });
    const rows = await env.pg.query<{ operation: string; status: string; filename: string; size_bytes: string }>(
      `SELECT operation, status, filename, size_bytes FROM metadata.audit_log WHERE file_id = $1 ORDER BY id`,
      [body['file_id']],
    );
    expect(rows.rows).toEqual([
      { operation: 'file.upload', status: 'success', filename: 'audit.txt', size_bytes: '8' },
      { operation: 'file.download', status: 'success', filename: 'audit.txt', size_bytes: '8' },
      { operation: 'file.delete', status: 'success', filename: 'audit.txt', size_bytes: '8' },
    ]);
  });
});
