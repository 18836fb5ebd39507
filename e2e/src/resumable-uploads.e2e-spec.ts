import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { testRedisClient, waitFor } from '@cloudstore/testing';
import { signUp, type TestUser } from './support/accounts';
import { chunkFilesOnDisk, grpcUpload, sha256 } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const CHUNK = 1024 * 1024;
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_NOT_FOUND = 5;
const GRPC_DATA_LOSS = 15;

async function reservedBytes(env: TestCluster, user: TestUser): Promise<number> {
  const rows = await env.pg.query<{ reserved_bytes: string }>(
    'SELECT reserved_bytes FROM metadata.user_quotas WHERE user_id = $1',
    [user.userId],
  );
  return Number(rows.rows[0]?.reserved_bytes ?? 0);
}

describe('resumable uploads over gRPC: CreateUpload, a cut-off stream, GetUploadStatus, and on from the offset (real cluster)', () => {
  const env = TestCluster.perFile({ CHUNK_SIZE_BYTES: String(CHUNK) });

  const create = (user: TestUser, data: Buffer, sha = sha256(data)) =>
    env.grpc.call('createUpload', { authToken: user.token, filename: 'big.bin', size: data.length, sha256: sha, fileId: '' });
  const status = (user: TestUser, uploadId: string) => env.grpc.call('getUploadStatus', { authToken: user.token, uploadId });

  it('goes on after a cancelled stream from the stored offset, never sending stored chunks again; the SHA-256 matches', async () => {
    const user = await signUp(env.rest, env.smtp, 'resume');
    const data = randomBytes(6 * CHUNK + 12_345);
    const created = await create(user, data);
    expect(created).toMatchObject({ success: true });
    expect(created.expiresAt - Date.now() / 1000).toBeGreaterThan(86_000);
    expect(await reservedBytes(env, user)).toBe(data.length);
    expect(await status(user, created.uploadId)).toMatchObject({ offset: 0, size: data.length, fileId: created.fileId });

    // 3.5 chunks, then the client goes away once the gateway has taken the third chunk in.
    const cut = grpcUpload(env.grpc, user.token, '', data, {
      resume: { uploadId: created.uploadId, offset: 0 },
      stopAfter: 3.5 * CHUNK,
    });
    await waitFor('the third chunk taken in', async () => {
      const rows = await env.pg.query<{ received_bytes: string }>('SELECT received_bytes FROM metadata.uploads WHERE id = $1', [
        created.uploadId,
      ]);
      return Number(rows.rows[0]?.received_bytes) >= 3 * CHUNK;
    });
    cut.call.cancel();
    await expect(cut.done).rejects.toBeDefined();
    const stored = await waitFor('the cut-off stream’s chunks recorded', async () => {
      const now = await status(user, created.uploadId);
      return now.offset === 3 * CHUNK ? now : false;
    });
    expect(stored).toMatchObject({ uploadId: created.uploadId, size: data.length });
    expect(await reservedBytes(env, user)).toBe(data.length);

    const wrong = await grpcUpload(env.grpc, user.token, '', data, {
      resume: { uploadId: created.uploadId, offset: 0 },
    }).done.catch((e: ServiceError) => e);
    expect(wrong).toMatchObject({ code: GRPC_INVALID_ARGUMENT });
    expect((wrong as ServiceError).details).toContain(`offset ${3 * CHUNK}`);
    // A wrong offset cuts nothing: the stored chunks are still there to go on from.
    expect((await status(user, created.uploadId)).offset).toBe(3 * CHUNK);

    const done = await grpcUpload(env.grpc, user.token, '', data, { resume: { uploadId: created.uploadId, offset: 3 * CHUNK } })
      .done;
    expect(done).toMatchObject({ success: true, fileId: created.fileId, fileSize: data.length, checksum: sha256(data) });
    const download = await env.rest.fetch(`/v1/files/${created.fileId}/content`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(data));
    expect((await env.rest.get(`/v1/files/${created.fileId}`, user.token)).body).toMatchObject({ filename: 'big.bin' });
    expect(await reservedBytes(env, user)).toBe(0);
    expect((await env.rest.get('/v1/quota', user.token)).body['used_bytes']).toBe(data.length);
    // A client that missed the last answer learns the upload is finished: at its size; it cannot go on.
    expect(await status(user, created.uploadId)).toMatchObject({
      offset: data.length,
      size: data.length,
      fileId: created.fileId,
    });
    const again = await grpcUpload(env.grpc, user.token, '', data, {
      resume: { uploadId: created.uploadId, offset: data.length },
    }).done.catch((e: ServiceError) => e);
    expect(again).toMatchObject({ code: GRPC_NOT_FOUND });
    // Exactly one chunk per index: the stored ones were not sent again.
    const chunks = await env.pg.query<{ n: string }>(
      'SELECT count(*) AS n FROM metadata.chunks c JOIN metadata.files f ON f.id = c.file_id WHERE f.public_id = $1 AND f.owner_id = $2',
      [created.fileId, user.userId],
    );
    expect(Number(chunks.rows[0]?.n)).toBe(7);
  });

  it('refuses bytes whose SHA-256 is not the one announced, keeping nothing, and another user’s upload id', async () => {
    const user = await signUp(env.rest, env.smtp, 'badsum');
    const other = await signUp(env.rest, env.smtp, 'other');
    const data = randomBytes(CHUNK + 5);
    const created = await create(user, data, sha256(randomBytes(8)));
    await expect(status(other, created.uploadId)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    const theirs = await grpcUpload(env.grpc, other.token, '', data, {
      resume: { uploadId: created.uploadId, offset: 0 },
    }).done.catch((e: ServiceError) => e);
    expect(theirs).toMatchObject({ code: GRPC_NOT_FOUND });

    const refused = await grpcUpload(env.grpc, user.token, '', data, {
      resume: { uploadId: created.uploadId, offset: 0 },
    }).done.catch((e: ServiceError) => e);
    expect(refused).toMatchObject({ code: GRPC_DATA_LOSS });
    await expect(status(user, created.uploadId)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect(await reservedBytes(env, user)).toBe(0);
    expect((await env.rest.get('/v1/files', user.token)).body).toMatchObject({ total_count: 0 });
    await expect(
      env.grpc.call('createUpload', { authToken: user.token, filename: 'x', size: 1, sha256: 'not-hex', fileId: '' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(
      env.grpc.call('createUpload', { authToken: user.token, filename: 'x', size: -1, sha256: '', fileId: '' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('resumable uploads expire: UPLOAD_EXPIRY_SECONDS after creation, the reservation and chunks are released (real cluster)', () => {
  const env = TestCluster.perFile({ CHUNK_SIZE_BYTES: String(CHUNK), UPLOAD_EXPIRY_SECONDS: '4' });

  it('drops an unfinished upload: its quota reservation and its chunks on the nodes', async () => {
    const user = await signUp(env.rest, env.smtp, 'expire');
    const data = randomBytes(3 * CHUNK);
    const created = await env.grpc.call('createUpload', {
      authToken: user.token,
      filename: 'left.bin',
      size: data.length,
      sha256: '',
      fileId: '',
    });
    const cut = grpcUpload(env.grpc, user.token, '', data, {
      resume: { uploadId: created.uploadId, offset: 0 },
      stopAfter: 2 * CHUNK,
    });
    await waitFor('two chunks taken in', async () => {
      const rows = await env.pg.query<{ received_bytes: string }>('SELECT received_bytes FROM metadata.uploads WHERE id = $1', [
        created.uploadId,
      ]);
      return Number(rows.rows[0]?.received_bytes) >= 2 * CHUNK;
    });
    cut.call.cancel();
    await expect(cut.done).rejects.toBeDefined();
    const chunkIds = (
      await env.pg.query<{ id: string }>('SELECT id FROM metadata.chunks WHERE upload_id = $1', [created.uploadId])
    ).rows.map((r) => r.id);
    expect(chunkIds.length).toBeGreaterThan(0);
    expect(await reservedBytes(env, user)).toBe(data.length);

    await waitFor(
      'the expired upload dropped, its reservation released and its chunks gone from every node',
      async () => {
        const onDisk = new Set((await chunkFilesOnDisk(env.cluster.dataDir)).map((p) => basename(p)));
        return (await reservedBytes(env, user)) === 0 && chunkIds.every((id) => !onDisk.has(id));
      },
      60_000,
    );
    await expect(env.grpc.call('getUploadStatus', { authToken: user.token, uploadId: created.uploadId })).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
    });
  });
  it('drops an unfinished tus upload alike, with the bytes past its last whole chunk (its tail)', async () => {
    const user = await signUp(env.rest, env.smtp, 'tusexpire');
    const headers = { authorization: `Bearer ${user.token}`, 'tus-resumable': '1.0.0' };
    const created = await env.rest.fetch('/v1/uploads', {
      method: 'POST',
      headers: {
        ...headers,
        'upload-length': String(3 * CHUNK),
        'upload-metadata': `filename ${Buffer.from('t.bin').toString('base64')}`,
      },
    });
    const location = created.headers.get('location') as string;
    const uploadId = location.split('/').pop() as string;
    const sent = await fetch(location, {
      method: 'PATCH',
      headers: { ...headers, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
      body: randomBytes(1.5 * CHUNK),
    });
    expect(sent.headers.get('upload-offset')).toBe(String(1.5 * CHUNK));
    const redis = testRedisClient({
      REDIS_URL: String(env.cluster.env['REDIS_URL']),
      REDIS_CA_FILE: env.cluster.env['REDIS_CA_FILE'],
    });
    try {
      const tailKey = `${String(env.cluster.env['REDIS_KEY_PREFIX'])}:upload-tail:${uploadId}`;
      // The tail lives no longer than its upload.
      expect(await redis.ttl(tailKey)).toBeGreaterThan(0);
      expect(await redis.ttl(tailKey)).toBeLessThanOrEqual(4);
      await waitFor(
        'the expired tus upload dropped: reservation released, chunks cut loose, tail gone',
        async () => {
          const chunks = await env.pg.query<{ n: string }>('SELECT count(*) AS n FROM metadata.chunks WHERE upload_id = $1', [
            uploadId,
          ]);
          return (await reservedBytes(env, user)) === 0 && Number(chunks.rows[0]?.n) === 0 && (await redis.exists(tailKey)) === 0;
        },
        60_000,
      );
    } finally {
      redis.disconnect();
    }
    expect((await fetch(location, { method: 'HEAD', headers })).status).toBe(404);
  });
});
