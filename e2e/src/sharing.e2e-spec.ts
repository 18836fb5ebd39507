import { randomBytes } from 'node:crypto';
import { signUp, type TestUser } from './support/accounts';
import { bearer } from './support/api-clients';
import { grpcDownload, restUpload, sha256 } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const CHUNK = 1024 * 1024;

interface SharedListing {
  files: {
    file_id: string;
    filename: string;
    file_size: number;
    checksum: string;
    shared_by: string;
    permission: string;
    shared_at: number;
  }[];
  total_count: number;
}

interface EventView {
  operation: string;
  outcome: string;
  file_id?: string;
  filename?: string;
  details: Record<string, string>;
}

describe('sharing: an owner gives another user read access to a file, and takes it back (real cluster)', () => {
  const env = TestCluster.perFile({ CHUNK_SIZE_BYTES: String(CHUNK) });

  const content = (user: TestUser, fileId: string, headers: Record<string, string> = {}) =>
    env.rest.fetch(`/v1/files/${fileId}/content`, { headers: { authorization: `Bearer ${user.token}`, ...headers } });
  const share = (owner: TestUser, fileId: string, body: unknown) =>
    env.rest.post(`/v1/files/${fileId}/shares`, body, owner.token);
  const sharedWithMe = (user: TestUser) => env.rest.get<SharedListing>('/v1/shared-with-me', user.token);
  const usedBytes = async (user: TestUser) => (await env.rest.get('/v1/quota', user.token)).body['used_bytes'];

  async function ownerWithFile(size = 2 * CHUNK + 333): Promise<{ owner: TestUser; fileId: string; data: Buffer }> {
    const owner = await signUp(env.rest, env.smtp, 'owner');
    const data = randomBytes(size);
    return { owner, fileId: await restUpload(env.cluster.httpUrl, owner.token, 'plan.pdf', data), data };
  }

  it('lets the grantee list, get and download the file over REST and gRPC, counted on the owner’s quota only', async () => {
    const { owner, fileId, data } = await ownerWithFile();
    const grantee = await signUp(env.rest, env.smtp, 'grantee');

    const granted = await share(owner, fileId, { username: grantee.username.toUpperCase(), permission: 'read' });
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({ file_id: fileId, username: grantee.username, permission: 'read' });
    expect((await env.rest.get(`/v1/files/${fileId}/shares`, owner.token)).body).toEqual({ shares: [granted.body] });

    const listed = await sharedWithMe(grantee);
    expect(listed.status).toBe(200);
    expect(listed.body.total_count).toBe(1);
    expect(listed.body.files[0]).toMatchObject({
      file_id: fileId,
      filename: 'plan.pdf',
      file_size: data.length,
      checksum: sha256(data),
      shared_by: owner.username,
      permission: 'read',
    });
    expect((await env.rest.get(`/v1/files/${fileId}`, grantee.token)).body).toMatchObject({
      file_id: fileId,
      shared_by: owner.username,
    });
    expect((await env.rest.get(`/v1/files/${fileId}`, owner.token)).body['shared_by']).toBeUndefined();
    // The grantee's own files are their own: a shared file is listed apart.
    expect((await env.rest.get('/v1/files', grantee.token)).body).toMatchObject({ files: [], total_count: 0 });

    const whole = await content(grantee, fileId);
    expect(whole.status).toBe(200);
    expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(sha256(data));
    const part = await content(grantee, fileId, { range: `bytes=${CHUNK - 10}-${CHUNK + 9}` });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(data.subarray(CHUNK - 10, CHUNK + 10));
    expect(sha256((await grpcDownload(env.grpc, grantee.token, fileId)).data)).toBe(sha256(data));

    const overGrpc = await env.grpc.call(
      'listSharedWithMe',
      { authToken: '', limit: 0, offset: 0 },
      { metadata: bearer(grantee.token) },
    );
    expect(overGrpc).toMatchObject({
      success: true,
      totalCount: 1,
      files: [{ file: { fileId, sharedBy: owner.username }, ownerUsername: owner.username, permission: 'read' }],
    });

    expect(await usedBytes(owner)).toBe(data.length);
    expect(await usedBytes(grantee)).toBe(0);

    // The grantee's downloads are in the grantee's audit log, naming the owner as the subject.
    const events = await env.rest.get<{ events: EventView[] }>('/v1/audit?operation=file.download', grantee.token);
    expect(events.body.events.length).toBe(3);
    expect(events.body.events[0]).toMatchObject({ file_id: fileId, details: { access: 'share', targetUserId: owner.userId } });
    // The owner's filename stays out of the grantee's rows: it would outlive the owner's erasure there.
    expect(events.body.events.map((e) => e.filename)).toEqual([undefined, undefined, undefined]);
    const ownerEvents = await env.rest.get<{ events: EventView[] }>('/v1/audit?operation=file.share', owner.token);
    expect(ownerEvents.body.events).toEqual([
      expect.objectContaining({
        file_id: fileId,
        outcome: 'success',
        details: { permission: 'read', targetUserId: grantee.userId },
      }),
    ]);
  });

  it('never lets the grantee delete or share the file, and shows it to nobody else', async () => {
    const { owner, fileId, data } = await ownerWithFile(1000);
    const grantee = await signUp(env.rest, env.smtp, 'grantee');
    const stranger = await signUp(env.rest, env.smtp, 'stranger');
    expect((await share(owner, fileId, { username: grantee.username })).status).toBe(201);

    const deleted = await env.rest.request('DELETE', `/v1/files/${fileId}`, { token: grantee.token });
    expect([deleted.status, deleted.body['code']]).toEqual([403, 'PERMISSION_DENIED']);
    const reshared = await share(grantee, fileId, { username: stranger.username });
    expect([reshared.status, reshared.body['code']]).toEqual([403, 'PERMISSION_DENIED']);
    const unshared = await env.rest.request('DELETE', `/v1/files/${fileId}/shares/${grantee.username}`, { token: grantee.token });
    expect([unshared.status, unshared.body['code']]).toEqual([403, 'PERMISSION_DENIED']);
    await expect(env.grpc.call('deleteFile', { authToken: grantee.token, fileId })).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });
    await expect(
      env.grpc.call('shareFile', { authToken: grantee.token, fileId, username: stranger.username, permission: 'read' }),
    ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });

    for (const path of [`/v1/files/${fileId}`, `/v1/files/${fileId}/content`, `/v1/files/${fileId}/shares`]) {
      const res = await env.rest.get(path, stranger.token);
      expect([path, res.status, res.body['code']]).toEqual([path, 404, 'FILE_NOT_FOUND']);
    }
    await expect(grpcDownload(env.grpc, stranger.token, fileId)).rejects.toMatchObject({ code: 5 });
    expect((await sharedWithMe(stranger)).body.total_count).toBe(0);

    // Still whole, still the owner's.
    const whole = await content(owner, fileId);
    expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(sha256(data));
  });

  it('ends access at once on unshare, and while the file is in the trash', async () => {
    const { owner, fileId, data } = await ownerWithFile(5000);
    const grantee = await signUp(env.rest, env.smtp, 'grantee');
    expect((await share(owner, fileId, { username: grantee.username })).status).toBe(201);
    expect((await content(grantee, fileId)).status).toBe(200);

    expect((await env.rest.request('DELETE', `/v1/files/${fileId}`, { token: owner.token })).status).toBe(200);
    expect((await content(grantee, fileId)).status).toBe(404);
    expect((await sharedWithMe(grantee)).body.total_count).toBe(0);
    expect((await env.rest.post(`/v1/trash/${fileId}/restore`, {}, owner.token)).status).toBe(200);
    const back = await content(grantee, fileId);
    expect(sha256(Buffer.from(await back.arrayBuffer()))).toBe(sha256(data));

    const ended = await env.rest.request('DELETE', `/v1/files/${fileId}/shares/${grantee.username}`, { token: owner.token });
    expect([ended.status, ended.body]).toEqual([200, { success: true }]);
    const after = await content(grantee, fileId);
    expect([after.status, ((await after.json()) as { code: string }).code]).toEqual([404, 'FILE_NOT_FOUND']);
    await expect(grpcDownload(env.grpc, grantee.token, fileId)).rejects.toMatchObject({ code: 5 });
    expect((await sharedWithMe(grantee)).body).toEqual({ files: [], total_count: 0 });
    expect((await env.rest.get(`/v1/files/${fileId}/shares`, owner.token)).body).toEqual({ shares: [] });
    // Ending it again changes nothing.
    expect(
      (await env.rest.request('DELETE', `/v1/files/${fileId}/shares/${grantee.username}`, { token: owner.token })).status,
    ).toBe(200);

    const events = await env.rest.get<{ events: EventView[] }>('/v1/audit?operation=file.unshare', owner.token);
    expect(events.body.events).toEqual([expect.objectContaining({ file_id: fileId, details: { targetUserId: grantee.userId } })]);
  });

  it('shares over gRPC and refuses what cannot be shared with the contract’s codes', async () => {
    const { owner, fileId } = await ownerWithFile(10);
    const grantee = await signUp(env.rest, env.smtp, 'grantee');
    const other = await ownerWithFile(10);

    const shared = await env.grpc.call('shareFile', {
      authToken: owner.token,
      fileId,
      username: grantee.username,
      permission: '',
    });
    expect(shared).toMatchObject({ success: true, share: { fileId, username: grantee.username, permission: 'read' } });
    expect(await env.grpc.call('listFileShares', { authToken: owner.token, fileId })).toMatchObject({
      shares: [{ fileId, username: grantee.username }],
    });
    expect((await grpcDownload(env.grpc, grantee.token, fileId)).data.length).toBe(10);
    expect(await env.grpc.call('unshareFile', { authToken: owner.token, fileId, username: grantee.username })).toEqual({
      success: true,
    });
    await expect(grpcDownload(env.grpc, grantee.token, fileId)).rejects.toMatchObject({ code: 5 });

    const refusals: [unknown, number, string][] = [
      [{ username: 'nobody_like_this_here' }, 400, 'INVALID_ARGUMENT'],
      [{ username: owner.username }, 400, 'INVALID_ARGUMENT'],
      [{ username: grantee.username, permission: 'write' }, 400, 'INVALID_ARGUMENT'],
      [{ permission: 'read' }, 400, 'INVALID_ARGUMENT'],
    ];
    for (const [body, status, code] of refusals) {
      const res = await share(owner, fileId, body);
      expect([body, res.status, res.body['code']]).toEqual([body, status, code]);
    }
    for (const id of [other.fileId, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const res = await share(owner, id, { username: grantee.username });
      expect([id, res.status, res.body['code']]).toEqual([id, 404, 'FILE_NOT_FOUND']);
    }
    await expect(
      env.grpc.call('shareFile', { authToken: owner.token, fileId, username: grantee.username, permission: 'write' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await sharedWithMe(grantee)).body.total_count).toBe(0);
  });
});
