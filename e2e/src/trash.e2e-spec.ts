import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { waitFor } from '@cloudstore/testing';
import { bearer } from './support/api-clients';
import { signUp, type TestUser } from './support/accounts';
import { chunkFilesOnDisk, grpcDownload, restUpload, sha256 } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const CHUNK = 1024 * 1024;
const RETENTION_SECONDS = 8;
const ADMIN = { username: 'trash_admin', email: 'trash_admin@example.com', password: 'Admin-Passw0rd-2026!' };

interface TrashListing {
  files: { file_id: string; filename: string; file_size: number; deleted_at: number; purge_at: number }[];
  total_count: number;
}

describe('the trash: deleted files are restorable for TRASH_RETENTION_SECONDS, then purged from every node', () => {
  const env = TestCluster.perFile(
    {
      CHUNK_SIZE_BYTES: String(CHUNK),
      TRASH_RETENTION_SECONDS: String(RETENTION_SECONDS),
    },
    { admin: ADMIN },
  );

  async function chunkIdsOf(fileId: string): Promise<string[]> {
    const rows = await env.pg.query<{ id: string }>('SELECT id FROM metadata.chunks WHERE file_id = $1', [fileId]);
    return rows.rows.map((r) => r.id);
  }

  /** How many copies of these chunks the nodes hold on disk. */
  async function copiesOnDisk(chunkIds: string[]): Promise<number> {
    const wanted = new Set(chunkIds);
    return (await chunkFilesOnDisk(env.cluster.dataDir)).filter((path) => wanted.has(basename(path))).length;
  }

  async function chunkRows(chunkIds: string[]): Promise<number> {
    const rows = await env.pg.query<{ n: string }>('SELECT count(*) AS n FROM metadata.chunks WHERE id = ANY($1)', [chunkIds]);
    return Number(rows.rows[0]?.n);
  }

  const usedBytes = async (user: TestUser) => (await env.rest.get('/v1/quota', user.token)).body['used_bytes'];

  it('lists a deleted file with its purge time, and restores it whole, charged to the quota again', async () => {
    const user = await signUp(env.rest, env.smtp, 'restore');
    const data = randomBytes(2 * CHUNK + 17);
    const fileId = await restUpload(env.cluster.httpUrl, user.token, 'report.pdf', data);
    expect((await env.rest.request('DELETE', `/v1/files/${fileId}`, { token: user.token })).body).toMatchObject({
      freed_bytes: data.length,
    });
    expect(await usedBytes(user)).toBe(0);

    const trash = await env.rest.get<TrashListing>('/v1/trash', user.token);
    expect(trash.status).toBe(200);
    expect(trash.body.total_count).toBe(1);
    const [listed] = trash.body.files;
    expect(listed).toMatchObject({ file_id: fileId, filename: 'report.pdf', file_size: data.length });
    expect(listed?.purge_at).toBe((listed?.deleted_at ?? 0) + RETENTION_SECONDS);

    const restored = await env.rest.post(`/v1/trash/${fileId}/restore`, {}, user.token);
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ file_id: fileId, file_size: data.length, checksum: sha256(data) });
    expect(restored.body['deleted_at']).toBeUndefined();
    expect(await usedBytes(user)).toBe(data.length);
    expect((await env.rest.get<TrashListing>('/v1/trash', user.token)).body.total_count).toBe(0);
    expect((await env.rest.get<{ total_count: number }>('/v1/files', user.token)).body.total_count).toBe(1);
    const download = await fetch(`${env.cluster.httpUrl}/v1/files/${fileId}/content`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(data));

    const audit = await env.pg.query<{ operation: string }>(
      `SELECT operation FROM metadata.audit_log WHERE file_id = $1 ORDER BY occurred_at, id`,
      [fileId],
    );
    expect(audit.rows.map((r) => r.operation)).toEqual(['file.upload', 'file.delete', 'file.restore', 'file.download']);
  });

  it('answers FILE_NOT_FOUND for a live file, another user’s trash and a malformed id', async () => {
    const owner = await signUp(env.rest, env.smtp, 'owner');
    const other = await signUp(env.rest, env.smtp, 'other');
    const fileId = await restUpload(env.cluster.httpUrl, owner.token, 'mine.txt', randomBytes(100));
    const live = await env.rest.post(`/v1/trash/${fileId}/restore`, {}, owner.token);
    expect([live.status, live.body['code']]).toEqual([404, 'FILE_NOT_FOUND']);
    await env.rest.request('DELETE', `/v1/files/${fileId}`, { token: owner.token });
    expect((await env.rest.get<TrashListing>('/v1/trash', other.token)).body.total_count).toBe(0);
    for (const res of [
      await env.rest.post(`/v1/trash/${fileId}/restore`, {}, other.token),
      await env.rest.request('DELETE', `/v1/trash/${fileId}`, { token: other.token }),
      await env.rest.post('/v1/trash/not-a-uuid/restore', {}, owner.token),
    ]) {
      expect([res.status, res.body['code']]).toEqual([404, 'FILE_NOT_FOUND']);
    }
    expect((await env.rest.get('/v1/trash')).status).toBe(401);
  });

  it('refuses a restore that no longer fits the quota with QUOTA_EXCEEDED, and keeps the file in the trash', async () => {
    const user = await signUp(env.rest, env.smtp, 'full');
    const first = await restUpload(env.cluster.httpUrl, user.token, 'first.bin', randomBytes(CHUNK));
    await env.rest.request('DELETE', `/v1/files/${first}`, { token: user.token });
    expect((await env.rest.patch(`/v1/admin/users/${user.userId}`, { quota_bytes: CHUNK + 10 }, env.admin.token)).status).toBe(
      200,
    );
    await restUpload(env.cluster.httpUrl, user.token, 'second.bin', randomBytes(CHUNK));
    const refused = await env.rest.post(`/v1/trash/${first}/restore`, {}, user.token);
    expect([refused.status, refused.body['code']]).toEqual([413, 'QUOTA_EXCEEDED']);
    expect(await usedBytes(user)).toBe(CHUNK);
    expect((await env.rest.get<TrashListing>('/v1/trash', user.token)).body.files.map((f) => f.file_id)).toEqual([first]);
  });

  it('purges a file at its owner’s request: the record at once, every copy of its chunks from the nodes', async () => {
    const user = await signUp(env.rest, env.smtp, 'purge');
    const data = randomBytes(3 * CHUNK);
    const fileId = await restUpload(env.cluster.httpUrl, user.token, 'secret.bin', data);
    const chunks = await chunkIdsOf(fileId);
    expect(await copiesOnDisk(chunks)).toBe(3 * 3);
    await env.rest.request('DELETE', `/v1/files/${fileId}`, { token: user.token });
    expect(await copiesOnDisk(chunks)).toBe(3 * 3);

    const purged = await env.rest.request('DELETE', `/v1/trash/${fileId}`, { token: user.token });
    expect([purged.status, purged.body]).toEqual([200, { success: true, purged_bytes: data.length }]);
    expect((await env.rest.get<TrashListing>('/v1/trash', user.token)).body.total_count).toBe(0);
    await waitFor('the purged chunks removed from every node', async () => (await copiesOnDisk(chunks)) === 0, 20_000);
    await waitFor('the purged chunks forgotten', async () => (await chunkRows(chunks)) === 0, 10_000);
    const again = await env.rest.request('DELETE', `/v1/trash/${fileId}`, { token: user.token });
    expect([again.status, again.body['code']]).toEqual([404, 'FILE_NOT_FOUND']);
    const restore = await env.rest.post(`/v1/trash/${fileId}/restore`, {}, user.token);
    expect(restore.status).toBe(404);
  });

  it('purges a file by itself once its retention is over', async () => {
    const user = await signUp(env.rest, env.smtp, 'expire');
    const fileId = await restUpload(env.cluster.httpUrl, user.token, 'old.bin', randomBytes(CHUNK + 1));
    const chunks = await chunkIdsOf(fileId);
    await env.rest.request('DELETE', `/v1/files/${fileId}`, { token: user.token });
    await waitFor(
      'the file purged after its retention',
      async () => (await env.rest.get<TrashListing>('/v1/trash', user.token)).body.total_count === 0,
      (RETENTION_SECONDS + 30) * 1000,
    );
    await waitFor('its chunks removed from every node', async () => (await copiesOnDisk(chunks)) === 0, 20_000);
    const audit = await env.pg.query<{ details: Record<string, string> }>(
      `SELECT details FROM metadata.audit_log WHERE file_id = $1 AND operation = 'file.purge'`,
      [fileId],
    );
    expect(audit.rows.map((r) => r.details)).toEqual([{ reason: 'retention' }]);
    const restore = await env.rest.post(`/v1/trash/${fileId}/restore`, {}, user.token);
    expect([restore.status, restore.body['code']]).toEqual([404, 'FILE_NOT_FOUND']);
  });

  it('offers the trash over gRPC: ListTrash, RestoreFile and PurgeFile', async () => {
    const user = await signUp(env.rest, env.smtp, 'grpc');
    const kept = randomBytes(CHUNK + 5);
    const keptId = await restUpload(env.cluster.httpUrl, user.token, 'kept.bin', kept);
    const goneId = await restUpload(env.cluster.httpUrl, user.token, 'gone.bin', randomBytes(10));
    for (const fileId of [keptId, goneId]) await env.grpc.call('deleteFile', { authToken: user.token, fileId });

    const trash = await env.grpc.call('listTrash', { authToken: '', limit: 0, offset: 0 }, { metadata: bearer(user.token) });
    expect(trash.totalCount).toBe(2);
    expect(trash.files.map((f) => f.fileId).sort()).toEqual([keptId, goneId].sort());
    for (const f of trash.files) expect(f.purgeAt).toBe(f.deletedAt + RETENTION_SECONDS);

    const restored = await env.grpc.call('restoreFile', { authToken: user.token, fileId: keptId });
    expect(restored).toMatchObject({ success: true, file: { fileId: keptId, fileSize: kept.length, checksum: sha256(kept) } });
    expect((await grpcDownload(env.grpc, user.token, keptId)).data.equals(kept)).toBe(true);
    expect(await env.grpc.call('purgeFile', { authToken: user.token, fileId: goneId })).toEqual({
      success: true,
      purgedBytes: 10,
    });
    await expect(env.grpc.call('purgeFile', { authToken: user.token, fileId: goneId })).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
    });
  });
});
