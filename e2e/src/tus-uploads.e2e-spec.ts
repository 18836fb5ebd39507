import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { waitFor } from '@cloudstore/testing';
import { type HttpResponse, Upload } from 'tus-js-client';
import { signUp, type TestUser } from './support/accounts';
import { sha256 } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const CHUNK = 1024 * 1024;
const QUOTA = 64 * CHUNK;
const TUS = { 'tus-resumable': '1.0.0' };
const OCTETS = { 'content-type': 'application/offset+octet-stream' };

const metadataOf = (pairs: Record<string, string>) =>
  Object.entries(pairs)
    .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
    .join(',');

describe('tus 1.0 resumable uploads on /v1/uploads (real cluster)', () => {
  const env = TestCluster.perFile({ CHUNK_SIZE_BYTES: String(CHUNK), DEFAULT_QUOTA_BYTES: String(QUOTA) });

  const auth = (user: TestUser) => ({ authorization: `Bearer ${user.token}`, ...TUS });
  const create = async (user: TestUser, length: number, filename = 'tus.bin') => {
    const res = await env.rest.fetch('/v1/uploads', {
      method: 'POST',
      headers: { ...auth(user), 'upload-length': String(length), 'upload-metadata': metadataOf({ filename }) },
    });
    expect(res.status).toBe(201);
    return res;
  };
  const head = (user: TestUser, location: string) => fetch(location, { method: 'HEAD', headers: auth(user) });
  const patch = (user: TestUser, location: string, offset: number, body: Buffer, headers: Record<string, string> = {}) =>
    fetch(location, {
      method: 'PATCH',
      headers: { ...auth(user), ...OCTETS, 'upload-offset': String(offset), ...headers },
      body,
    });
  const reservedBytes = async (user: TestUser) =>
    Number(
      (
        await env.pg.query<{ r: string }>('SELECT reserved_bytes AS r FROM metadata.user_quotas WHERE user_id = $1', [
          user.userId,
        ])
      ).rows[0]?.r ?? 0,
    );
  const download = async (user: TestUser, fileId: string) =>
    Buffer.from(
      await (
        await env.rest.fetch(`/v1/files/${fileId}/content`, { headers: { authorization: `Bearer ${user.token}` } })
      ).arrayBuffer(),
    );

  it('answers OPTIONS with the version, the extensions, the largest size and the checksum algorithm, without a token', async () => {
    for (const path of ['/v1/uploads', `/v1/uploads/${randomBytes(4).toString('hex')}`]) {
      const res = await env.rest.fetch(path, { method: 'OPTIONS' });
      expect(res.status).toBe(204);
      expect(res.headers.get('tus-resumable')).toBe('1.0.0');
      expect(res.headers.get('tus-version')).toBe('1.0.0');
      expect(res.headers.get('tus-extension')?.split(',').sort()).toEqual(
        ['checksum', 'creation', 'creation-with-upload', 'expiration', 'termination'].sort(),
      );
      expect(Number(res.headers.get('tus-max-size'))).toBeGreaterThan(0);
      expect(res.headers.get('tus-checksum-algorithm')).toBe('sha256');
    }
  });

  it('uploads 30 MiB with the unmodified tus-js-client, cut off half way and resumed without sending stored chunks again', async () => {
    const user = await signUp(env.rest, env.smtp, 'tusjs');
    const data = randomBytes(30 * CHUNK + 777);
    let cutAt = 0;
    const offsets: number[] = [];
    let upload!: Upload;
    const firstRun = new Promise<void>((resolve, reject) => {
      upload = new Upload(data, {
        endpoint: `${env.rest.baseUrl}/v1/uploads`,
        headers: { authorization: `Bearer ${user.token}` },
        metadata: { filename: 'thirty.bin', filetype: 'application/x-test' },
        retryDelays: [100, 500, 1000, 2000, 4000],
        onProgress: (sent) => {
          offsets.push(sent);
          if (!cutAt && sent >= data.length / 2) {
            cutAt = sent;
            // The connection is killed: the request is destroyed mid-body.
            void upload.abort().then(resolve, reject);
          }
        },
        onError: reject,
      });
      upload.start();
    });
    await firstRun;
    expect(upload.url).toMatch(/\/v1\/uploads\/[0-9a-f-]{36}$/);
    const location = upload.url as string;
    // The gateway keeps what arrived: the whole chunks stored, the bytes past them as the upload's tail.
    const stood = await waitFor('the cut-off request’s bytes kept', async () => {
      const res = await head(user, location);
      const offset = Number(res.headers.get('upload-offset'));
      return res.status === 200 && offset >= 10 * CHUNK ? offset : false;
    });
    expect(stood).toBeLessThanOrEqual(cutAt);

    offsets.length = 0;
    const finished = await new Promise<HttpResponse>((resolve, reject) => {
      upload.options.onSuccess = (payload) => resolve(payload.lastResponse);
      upload.options.onError = reject;
      upload.start();
    });
    // The resumed client began where the server stood, not at 0.
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(stood);
    const fileId = String(finished.getHeader('X-File-Id'));
    expect(fileId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sha256(await download(user, fileId))).toBe(sha256(data));
    const file = await env.rest.get(`/v1/files/${fileId}`, user.token);
    expect(file.body).toMatchObject({ filename: 'thirty.bin', file_size: data.length, checksum: sha256(data) });
    // One chunk per index: none stored twice, none left over.
    const chunks = await env.pg.query<{ n: string }>(
      'SELECT count(*) AS n FROM metadata.chunks c JOIN metadata.files f ON f.id = c.file_id WHERE f.public_id = $1',
      [fileId],
    );
    expect(Number(chunks.rows[0]?.n)).toBe(31);
    expect(await reservedBytes(user)).toBe(0);
    expect((await env.rest.get('/v1/quota', user.token)).body['used_bytes']).toBe(data.length);
    // A client that missed the last answer learns the upload is done.
    const done = await head(user, location);
    expect([done.status, done.headers.get('upload-offset'), done.headers.get('upload-length')]).toEqual([
      200,
      String(data.length),
      String(data.length),
    ]);
  });

  it('answers HEAD with the offset, length and expiry, uncached; takes PATCHes shorter than a chunk; refuses a wrong offset with 409', async () => {
    const user = await signUp(env.rest, env.smtp, 'tushead');
    const data = randomBytes(2 * CHUNK + 4321);
    const created = await create(user, data.length, 'pieces.bin');
    const location = created.headers.get('location') as string;
    expect(location).toMatch(new RegExp(`^${env.rest.baseUrl}/v1/uploads/[0-9a-f-]{36}$`));
    expect(created.headers.get('tus-resumable')).toBe('1.0.0');
    expect(Date.parse(created.headers.get('upload-expires') as string) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);

    const fresh = await head(user, location);
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('upload-offset')).toBe('0');
    expect(fresh.headers.get('upload-length')).toBe(String(data.length));
    expect(fresh.headers.get('cache-control')).toBe('no-store');
    expect(fresh.headers.get('tus-resumable')).toBe('1.0.0');
    expect(Buffer.from(fresh.headers.get('upload-metadata')?.split(' ')[1] ?? '', 'base64').toString()).toBe('pieces.bin');
    expect(Date.parse(fresh.headers.get('upload-expires') as string)).toBeGreaterThan(Date.now());

    // Pieces of 300 KiB: most end inside a chunk, and each is kept all the same.
    const piece = 300 * 1024;
    const answers: unknown[] = [];
    const expected: unknown[] = [];
    let fileId = '';
    for (let offset = 0; offset < data.length; offset += piece) {
      const res = await patch(user, location, offset, data.subarray(offset, offset + piece));
      const next = Math.min(offset + piece, data.length);
      const unfinished = next < data.length;
      // Where HEAD says it stands, and a PATCH at the old offset again.
      const stands = unfinished ? (await head(user, location)).headers.get('upload-offset') : String(next);
      const wrong = unfinished ? await patch(user, location, offset, data.subarray(offset, offset + 10)) : undefined;
      answers.push([
        res.status,
        res.headers.get('upload-offset'),
        stands,
        wrong?.status,
        wrong && ((await wrong.json()) as { code: string }).code,
      ]);
      expected.push([204, String(next), String(next), unfinished ? 409 : undefined, unfinished ? 'INVALID_ARGUMENT' : undefined]);
      fileId = res.headers.get('x-file-id') as string;
    }
    expect(answers).toEqual(expected);
    expect(sha256(await download(user, fileId))).toBe(sha256(data));
  });

  it('stops a request whose client went silent when another asks for the upload, keeping what it sent', async () => {
    const user = await signUp(env.rest, env.smtp, 'tusstall');
    const data = randomBytes(4 * CHUNK + 5);
    const location = (await create(user, data.length)).headers.get('location') as string;
    const uploadId = location.split('/').pop() as string;
    // A PATCH that sends half its body and then nothing more, its connection left open.
    const url = new URL(location);
    const stalled = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'PATCH',
      headers: { ...auth(user), ...OCTETS, 'upload-offset': '0', 'content-length': String(data.length) },
    });
    stalled.on('error', () => undefined);
    stalled.write(data.subarray(0, 2 * CHUNK + 100));
    await waitFor('the stalled request’s first chunk stored', async () => {
      const rows = await env.pg.query<{ r: string }>('SELECT received_bytes AS r FROM metadata.uploads WHERE id = $1', [
        uploadId,
      ]);
      return Number(rows.rows[0]?.r) >= CHUNK;
    });
    // The client comes back on another connection: it is answered at once, not after the stalled one's idle timeout.
    const started = Date.now();
    const stood = await head(user, location);
    expect(stood.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(9_000);
    const offset = Number(stood.headers.get('upload-offset'));
    expect(offset).toBeGreaterThanOrEqual(CHUNK);
    expect(offset).toBeLessThanOrEqual(2 * CHUNK + 100);
    const done = await patch(user, location, offset, data.subarray(offset));
    expect(done.status).toBe(204);
    expect(sha256(await download(user, done.headers.get('x-file-id') as string))).toBe(sha256(data));
    stalled.destroy();
  });

  it('checks Upload-Checksum per request: a mismatch is 460 and keeps none of its bytes; the right one goes on', async () => {
    const user = await signUp(env.rest, env.smtp, 'tussum');
    const data = randomBytes(3 * CHUNK + 99);
    const location = (await create(user, data.length)).headers.get('location') as string;
    const digest = (bytes: Buffer) => `sha256 ${createHash('sha256').update(bytes).digest('base64')}`;
    const first = data.subarray(0, CHUNK + 500);
    expect((await patch(user, location, 0, first, { 'upload-checksum': digest(first) })).headers.get('upload-offset')).toBe(
      String(first.length),
    );
    // The rest, with the digest of other bytes: refused, whole chunks of it stored meanwhile cut loose.
    const rest = data.subarray(first.length);
    const refused = await patch(user, location, first.length, rest, { 'upload-checksum': digest(randomBytes(8)) });
    expect([refused.status, ((await refused.json()) as { code: string }).code]).toEqual([460, 'CHECKSUM_MISMATCH']);
    expect((await head(user, location)).headers.get('upload-offset')).toBe(String(first.length));
    const unknown = await patch(user, location, first.length, rest, { 'upload-checksum': 'md5 AAAA' });
    expect(unknown.status).toBe(400);
    const done = await patch(user, location, first.length, rest, { 'upload-checksum': digest(rest) });
    expect(done.status).toBe(204);
    expect(done.headers.get('upload-offset')).toBe(String(data.length));
    expect(sha256(await download(user, done.headers.get('x-file-id') as string))).toBe(sha256(data));
    const files = await env.rest.get<{ files: unknown[] }>('/v1/files', user.token);
    expect(files.body.files).toHaveLength(1);

    // Creation with bytes that fail their checksum: the client is given no URL, so nothing is kept, nor reserved.
    const bytes = randomBytes(CHUNK + 3);
    const failed = await env.rest.fetch('/v1/uploads', {
      method: 'POST',
      headers: {
        ...auth(user),
        ...OCTETS,
        'upload-length': String(bytes.length),
        'upload-metadata': metadataOf({ filename: 'bad.bin' }),
        'upload-checksum': digest(randomBytes(8)),
      },
      body: bytes,
    });
    expect([failed.status, failed.headers.get('location')]).toEqual([460, null]);
    expect(await reservedBytes(user)).toBe(0);
    const open = await env.pg.query<{ n: string }>(
      `SELECT count(*) AS n FROM metadata.uploads WHERE owner_id = $1 AND status = 'open'`,
      [user.userId],
    );
    expect(Number(open.rows[0]?.n)).toBe(0);
  });

  it('creates with the first bytes (creation-with-upload), finishes an empty upload at once, and takes a PATCH by X-HTTP-Method-Override', async () => {
    const user = await signUp(env.rest, env.smtp, 'tusmake');
    const small = randomBytes(100_000);
    const whole = await env.rest.fetch('/v1/uploads', {
      method: 'POST',
      headers: {
        ...auth(user),
        ...OCTETS,
        'upload-length': String(small.length),
        'upload-metadata': metadataOf({ filename: 'small.txt', filetype: 'text/plain' }),
      },
      body: small,
    });
    expect(whole.status).toBe(201);
    expect(whole.headers.get('upload-offset')).toBe(String(small.length));
    const smallId = whole.headers.get('x-file-id') as string;
    expect((await env.rest.get(`/v1/files/${smallId}`, user.token)).body).toMatchObject({
      filename: 'small.txt',
      content_type: 'text/plain',
      file_size: small.length,
    });
    expect(sha256(await download(user, smallId))).toBe(sha256(small));

    const empty = await create(user, 0, 'empty.bin');
    expect((await env.rest.get(`/v1/files/${empty.headers.get('x-file-id')}`, user.token)).body).toMatchObject({ file_size: 0 });

    const data = randomBytes(CHUNK + 1);
    const location = (await create(user, data.length, 'override.bin')).headers.get('location') as string;
    const overridden = await fetch(location, {
      method: 'POST',
      headers: { ...auth(user), ...OCTETS, 'x-http-method-override': 'PATCH', 'upload-offset': '0' },
      body: data,
    });
    expect(overridden.status).toBe(204);
    expect(sha256(await download(user, overridden.headers.get('x-file-id') as string))).toBe(sha256(data));
  });

  it('terminates an upload with DELETE: the reservation released, its chunks collected, the upload gone', async () => {
    const user = await signUp(env.rest, env.smtp, 'tusdel');
    const data = randomBytes(3 * CHUNK);
    const created = await create(user, data.length);
    const location = created.headers.get('location') as string;
    const uploadId = location.split('/').pop() as string;
    expect(await reservedBytes(user)).toBe(data.length);
    expect((await patch(user, location, 0, data.subarray(0, 2 * CHUNK + 10))).status).toBe(204);
    const removed = await fetch(location, { method: 'DELETE', headers: auth(user) });
    expect(removed.status).toBe(204);
    expect(removed.headers.get('tus-resumable')).toBe('1.0.0');
    expect(await reservedBytes(user)).toBe(0);
    expect((await head(user, location)).status).toBe(404);
    expect((await patch(user, location, 2 * CHUNK + 10, data.subarray(2 * CHUNK + 10))).status).toBe(404);
    expect((await fetch(location, { method: 'DELETE', headers: auth(user) })).status).toBe(404);
    await waitFor('the terminated upload’s chunks collected', async () => {
      const rows = await env.pg.query<{ n: string }>('SELECT count(*) AS n FROM metadata.chunks WHERE upload_id = $1', [
        uploadId,
      ]);
      return Number(rows.rows[0]?.n) === 0;
    });
    expect((await env.rest.get('/v1/files', user.token)).body).toMatchObject({ total_count: 0 });
  });

  it('refuses what the protocol and the account forbid, with the contract’s codes', async () => {
    const user = await signUp(env.rest, env.smtp, 'tusno');
    const other = await signUp(env.rest, env.smtp, 'tusother');
    const location = (await create(user, 10)).headers.get('location') as string;

    const noVersion = await fetch(location, { method: 'HEAD', headers: { authorization: `Bearer ${user.token}` } });
    expect([noVersion.status, noVersion.headers.get('tus-version')]).toEqual([412, '1.0.0']);
    const noToken = await fetch(location, { method: 'HEAD', headers: TUS });
    expect(noToken.status).toBe(401);
    for (const res of [
      await head(other, location),
      await patch(other, location, 0, Buffer.alloc(10)),
      await fetch(location, { method: 'DELETE', headers: auth(other) }),
    ])
      expect(res.status).toBe(404);
    const json = await fetch(location, {
      method: 'PATCH',
      headers: { ...auth(user), 'content-type': 'application/json', 'upload-offset': '0' },
      body: '{}',
    });
    expect(json.status).toBe(415);
    const tooLong = await patch(user, location, 0, Buffer.alloc(11));
    expect([tooLong.status, ((await tooLong.json()) as { code: string }).code]).toEqual([400, 'INVALID_ARGUMENT']);
    expect((await head(user, location)).headers.get('upload-offset')).toBe('0');

    const post = (headers: Record<string, string>) =>
      env.rest.fetch('/v1/uploads', { method: 'POST', headers: { ...auth(user), ...headers } });
    const refusals = [
      await post({ 'upload-metadata': metadataOf({ filename: 'x' }) }),
      await post({ 'upload-length': '-1', 'upload-metadata': metadataOf({ filename: 'x' }) }),
      await post({ 'upload-defer-length': '1', 'upload-metadata': metadataOf({ filename: 'x' }) }),
      await post({ 'upload-length': '5', 'upload-metadata': 'filename !!!' }),
      await post({ 'upload-length': '5' }),
      await post({ 'upload-length': String(QUOTA + 1), 'upload-metadata': metadataOf({ filename: 'x' }) }),
    ];
    expect(await Promise.all(refusals.map(async (r) => [r.status, ((await r.json()) as { code: string }).code]))).toEqual([
      [400, 'INVALID_ARGUMENT'],
      [400, 'INVALID_ARGUMENT'],
      [400, 'INVALID_ARGUMENT'],
      [400, 'INVALID_ARGUMENT'],
      [400, 'INVALID_FILENAME'],
      [413, 'QUOTA_EXCEEDED'],
    ]);
    // Only the first upload holds any quota.
    expect(await reservedBytes(user)).toBe(10);
  });
});
