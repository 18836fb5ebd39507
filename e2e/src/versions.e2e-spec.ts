import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { waitFor } from '@cloudstore/testing';
import { signUp, type TestUser } from './support/accounts';
import { bearer } from './support/api-clients';
import { chunkFilesOnDisk, grpcDownload, grpcUpload, sha256 } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const CHUNK = 1024 * 1024;
const VERSIONS_KEPT = 2;

interface VersionView {
  version_id: string;
  version: number;
  file_size: number;
  checksum: string;
  uploaded_at: number;
  filename: string;
  current: boolean;
}

describe('file versions: an upload naming a file’s id stores its new version and keeps VERSIONS_KEPT earlier ones (real cluster)', () => {
  const env = TestCluster.perFile({ CHUNK_SIZE_BYTES: String(CHUNK), VERSIONS_KEPT: String(VERSIONS_KEPT) });

  async function put(user: TestUser, data: Buffer, fileId?: string): Promise<Record<string, unknown>> {
    const res = await env.rest.fetch(`/v1/files?filename=notes.txt${fileId ? `&file_id=${fileId}` : ''}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${user.token}` },
      body: data,
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${JSON.stringify(body)}`);
    return body;
  }

  const versions = async (user: TestUser, fileId: string) =>
    (await env.rest.get<{ versions: VersionView[] }>(`/v1/files/${fileId}/versions`, user.token)).body.versions;
  const bytesOf = async (user: TestUser, path: string, headers: Record<string, string> = {}) => {
    const res = await env.rest.fetch(path, { headers: { authorization: `Bearer ${user.token}`, ...headers } });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  };
  const usedBytes = async (user: TestUser) => (await env.rest.get('/v1/quota', user.token)).body['used_bytes'];

  async function chunkIdsOf(rowIds: string[]): Promise<string[]> {
    const rows = await env.pg.query<{ id: string }>('SELECT id FROM metadata.chunks WHERE file_id = ANY($1)', [rowIds]);
    return rows.rows.map((r) => r.id);
  }

  it('lists, downloads (REST and gRPC, by id or number, ranged) and counts every version; drops the oldest past VERSIONS_KEPT', async () => {
    const user = await signUp(env.rest, env.smtp, 'versions');
    const contents = [randomBytes(CHUNK + 10), randomBytes(2000), randomBytes(3000), randomBytes(4000)];
    const first = await put(user, contents[0]);
    const fileId = first['file_id'] as string;
    expect(first['version']).toBe(1);
    expect(await put(user, contents[1] as Buffer, fileId)).toMatchObject({ file_id: fileId, version: 2, file_size: 2000 });
    const third = await grpcUpload(env.grpc, user.token, 'notes.txt', contents[2], { fileId }).done;
    expect(third).toMatchObject({ success: true, fileId, fileSize: 3000 });
    // A retry of that upload (its answer lost, say) makes no version: the file has that content already.
    expect(await put(user, contents[2] as Buffer, fileId)).toMatchObject({ file_id: fileId, version: 3, file_size: 3000 });

    const listed = await versions(user, fileId);
    expect(listed.map((v) => [v.version_id, v.version, v.current, v.file_size, v.checksum])).toEqual([
      ['3', 3, true, 3000, sha256(contents[2] as Buffer)],
      ['2', 2, false, 2000, sha256(contents[1] as Buffer)],
      ['1', 1, false, CHUNK + 10, sha256(contents[0] as Buffer)],
    ]);
    const byNumber = (n: number) => listed.find((v) => v.version === n) as VersionView;
    expect((await env.rest.get('/v1/files', user.token)).body).toMatchObject({ total_count: 1 });
    expect(await usedBytes(user)).toBe(CHUNK + 10 + 2000 + 3000);

    expect(sha256((await bytesOf(user, `/v1/files/${fileId}/content`)).body)).toBe(sha256(contents[2] as Buffer));
    const oldest = await bytesOf(user, `/v1/files/${fileId}/versions/${byNumber(1).version_id}/content`);
    expect([oldest.status, sha256(oldest.body)]).toEqual([200, sha256(contents[0] as Buffer)]);
    expect(sha256((await bytesOf(user, `/v1/files/${fileId}/versions/1/content`)).body)).toBe(sha256(contents[0] as Buffer));
    const part = await bytesOf(user, `/v1/files/${fileId}/versions/1/content`, { range: `bytes=${CHUNK}-${CHUNK + 9}` });
    expect([part.status, part.body]).toEqual([206, (contents[0] as Buffer).subarray(CHUNK)]);
    const overGrpc = await grpcDownload(env.grpc, user.token, fileId, undefined, byNumber(2).version_id);
    expect(sha256(overGrpc.data)).toBe(sha256(contents[1] as Buffer));
    expect(await env.grpc.call('listFileVersions', { authToken: user.token, fileId })).toMatchObject({
      success: true,
      versions: [{ version: 3, current: true }, { version: 2 }, { version: 1, fileSize: CHUNK + 10 }],
    });

    // A fourth content: VERSIONS_KEPT (2) earlier ones stay, the first is dropped and leaves the nodes.
    const firstRow = await env.pg.query<{ id: string }>('SELECT id FROM metadata.files WHERE public_id = $1 AND version = 1', [
      fileId,
    ]);
    const firstChunks = await chunkIdsOf(firstRow.rows.map((r) => r.id));
    expect(firstChunks.length).toBe(2);
    expect(await put(user, contents[3] as Buffer, fileId)).toMatchObject({ version: 4 });
    expect((await versions(user, fileId)).map((v) => v.version)).toEqual([4, 3, 2]);
    const gone = await env.rest.get(`/v1/files/${fileId}/versions/1/content`, user.token);
    expect([gone.status, gone.body['code']]).toEqual([404, 'FILE_NOT_FOUND']);
    expect(await usedBytes(user)).toBe(2000 + 3000 + 4000);
    await waitFor('the dropped version’s chunks to leave every node', async () => {
      const onDisk = new Set((await chunkFilesOnDisk(env.cluster.dataDir)).map((p) => basename(p)));
      return firstChunks.every((id) => !onDisk.has(id));
    });
  });

  it('restores a version as the next one, keeps the content it replaced, and moves versions through the trash with their file', async () => {
    const user = await signUp(env.rest, env.smtp, 'restore');
    const [one, two] = [randomBytes(1000), randomBytes(2500)];
    const fileId = (await put(user, one))['file_id'] as string;
    await put(user, two, fileId);

    const restored = await env.rest.post(`/v1/files/${fileId}/versions/1/restore`, {}, user.token);
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ file_id: fileId, version: 3, file_size: 1000, checksum: sha256(one) });
    expect(sha256((await bytesOf(user, `/v1/files/${fileId}/content`)).body)).toBe(sha256(one));
    expect((await versions(user, fileId)).map((v) => [v.version, v.checksum])).toEqual([
      [3, sha256(one)],
      [2, sha256(two)],
    ]);
    expect(await usedBytes(user)).toBe(3500);
    const byGrpc = await env.grpc.call('restoreFileVersion', { authToken: user.token, fileId, versionId: '2' });
    expect(byGrpc).toMatchObject({ success: true, file: { fileId, version: 4, checksum: sha256(two) } });
    const audit = await env.rest.get<{ events: { operation: string; details: Record<string, string> }[] }>(
      '/v1/audit?operation=file.version_restore',
      user.token,
    );
    expect(audit.body.events.map((e) => e.details)).toEqual([
      { version: '4', restoredFrom: '2' },
      { version: '3', restoredFrom: '1' },
    ]);

    const deleted = await env.rest.request('DELETE', `/v1/files/${fileId}`, { token: user.token });
    expect(deleted.body).toMatchObject({ freed_bytes: 3500 });
    expect(await usedBytes(user)).toBe(0);
    expect((await env.rest.get(`/v1/files/${fileId}/versions`, user.token)).status).toBe(404);
    expect((await env.rest.get<{ total_count: number }>('/v1/trash', user.token)).body.total_count).toBe(1);
    expect((await env.rest.post(`/v1/trash/${fileId}/restore`, {}, user.token)).status).toBe(200);
    expect(await usedBytes(user)).toBe(3500);
    expect((await versions(user, fileId)).map((v) => v.version)).toEqual([4, 3]);

    expect((await env.rest.request('DELETE', `/v1/files/${fileId}`, { token: user.token })).status).toBe(200);
    const rowIds = (await env.pg.query<{ id: string }>('SELECT id FROM metadata.files WHERE public_id = $1', [fileId])).rows;
    expect(rowIds.length).toBe(2);
    const purged = await env.rest.request('DELETE', `/v1/trash/${fileId}`, { token: user.token });
    expect(purged.body).toMatchObject({ purged_bytes: 3500 });
    expect((await env.pg.query('SELECT 1 FROM metadata.files WHERE public_id = $1', [fileId])).rowCount).toBe(0);
    expect(await chunkIdsOf(rowIds.map((r) => r.id))).toEqual([]);
  });

  it('shows versions to the owner alone, and refuses unknown ones with FILE_NOT_FOUND', async () => {
    const owner = await signUp(env.rest, env.smtp, 'vowner');
    const grantee = await signUp(env.rest, env.smtp, 'vgrantee');
    const stranger = await signUp(env.rest, env.smtp, 'vstranger');
    const fileId = (await put(owner, randomBytes(10)))['file_id'] as string;
    await put(owner, randomBytes(20), fileId);
    expect((await env.rest.post(`/v1/files/${fileId}/shares`, { username: grantee.username }, owner.token)).status).toBe(201);

    const asGrantee = await env.rest.get(`/v1/files/${fileId}/versions`, grantee.token);
    expect([asGrantee.status, asGrantee.body['code']]).toEqual([403, 'PERMISSION_DENIED']);
    // The grantee reads the file's content now, as shared.
    expect((await bytesOf(grantee, `/v1/files/${fileId}/content`)).body.length).toBe(20);
    const asStranger = await env.rest.get(`/v1/files/${fileId}/versions`, stranger.token);
    expect([asStranger.status, asStranger.body['code']]).toEqual([404, 'FILE_NOT_FOUND']);
    for (const id of ['9', '0', 'abc', '00000000-0000-4000-8000-000000000000']) {
      const res = await env.rest.get(`/v1/files/${fileId}/versions/${id}/content`, owner.token);
      expect([id, res.status, res.body['code']]).toEqual([id, 404, 'FILE_NOT_FOUND']);
      const restore = await env.rest.post(`/v1/files/${fileId}/versions/${id}/restore`, {}, owner.token);
      expect([id, restore.status, restore.body['code']]).toEqual([id, 404, 'FILE_NOT_FOUND']);
    }
    await expect(
      env.grpc.call('restoreFileVersion', { authToken: '', fileId, versionId: '1' }, { metadata: bearer(grantee.token) }),
    ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    // Restoring the content it has now changes nothing.
    const same = await env.rest.post(`/v1/files/${fileId}/versions/2/restore`, {}, owner.token);
    expect(same.body).toMatchObject({ version: 2, file_size: 20 });
  });
});
