import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CloudStorageClient, CloudStorageError, ERROR_CODES, type Tokens } from '@cloudstore/client';
import { ERROR_CATALOGUE } from '@cloudstore/contracts';
import { generate } from 'otplib';
import { waitFor } from '@cloudstore/testing';
import { TEST_PASSWORD } from './support/accounts';
import { TestCluster } from './support/test-cluster';

const MiB = 1024 * 1024;
const ADMIN = { username: 'sdk_admin', email: 'sdk_admin@example.com', password: 'Admin-Passw0rd-2026!' };

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const codeOf = (error: unknown) => (error instanceof CloudStorageError ? error.code : error);

describe('the TypeScript SDK (@cloudstore/client) against the real cluster', () => {
  const env = TestCluster.perFile({ MAX_FILE_SIZE_BYTES: String(512 * MiB) }, { admin: ADMIN });
  let dir: string;
  const clients: CloudStorageClient[] = [];

  const newClient = (tokens?: Tokens, onTokens?: (t: Tokens | undefined) => void) => {
    const client = new CloudStorageClient({
      address: `127.0.0.1:${env.cluster.ports.grpc}`,
      restUrl: env.cluster.httpUrl,
      ...(tokens ? { tokens } : {}),
      ...(onTokens ? { onTokens } : {}),
    });
    clients.push(client);
    return client;
  };

  /** A new account, signed in through the SDK with the mailed code. */
  const signedIn = async (prefix: string) => {
    const client = newClient();
    const username = `${prefix}_${randomBytes(4).toString('hex')}`;
    const email = `${username}@example.com`;
    const { userId } = await client.register(username, email, TEST_PASSWORD);
    const before = env.smtp.mailsTo(email).length;
    const { sessionId, otpMethod } = await client.login(username, TEST_PASSWORD);
    expect(otpMethod).toBe('email');
    await client.verifyOtp(sessionId, await env.smtp.codeFor(email, before));
    return { client, username, email, userId };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sdk-e2e-'));
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('knows every public error code of the API', () => {
    const publicCodes = Object.entries(ERROR_CATALOGUE)
      .filter(([, entry]) => entry.audience !== 'internal')
      .map(([code]) => code);
    expect([...ERROR_CODES].sort()).toEqual(publicCodes.sort());
  });

  it('signs up, in with the mailed code, refreshes, lists and ends sessions, and changes the password', async () => {
    const told: (Tokens | undefined)[] = [];
    const client = newClient(undefined, (t) => told.push(t));
    const username = `acct_${randomBytes(4).toString('hex')}`;
    const email = `${username}@example.com`;
    expect(await client.register(username, email, TEST_PASSWORD)).toMatchObject({ userId: expect.any(String) });
    expect(codeOf(await client.register(username, `other.${email}`, TEST_PASSWORD).catch((e: unknown) => e))).toBe(
      'USERNAME_TAKEN',
    );
    const before = env.smtp.mailsTo(email).length;
    const login = await client.login(username, TEST_PASSWORD);
    expect(codeOf(await client.verifyOtp(login.sessionId, '000000').catch((e: unknown) => e))).toBe('INVALID_OTP');
    const tokens = await client.verifyOtp(login.sessionId, await env.smtp.codeFor(email, before));
    expect(told).toEqual([tokens]);
    const refreshed = await client.refreshToken();
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    expect(client.session).toEqual(refreshed);

    // A second sign-in, then the first ends it.
    const second = newClient();
    const again = env.smtp.mailsTo(email).length;
    const secondLogin = await second.login(username, TEST_PASSWORD);
    await second.verifyOtp(secondLogin.sessionId, await env.smtp.codeFor(email, again));
    expect(await client.whoami()).toMatchObject({ username, role: 'basic', userId: expect.any(String) });
    const sessions = await client.listSessions();
    expect(sessions).toHaveLength(2);
    await client.revokeSession(sessions.find((s) => !s.current)?.sessionId as string);
    expect(['TOKEN_REVOKED', 'SESSION_NOT_FOUND']).toContain(codeOf(await second.listFiles().catch((e: unknown) => e)));

    await client.changePassword(TEST_PASSWORD, 'An0ther-Secret-Pass!');
    await client.requestPasswordReset(email);
    const token = await env.smtp.resetTokenFor(email);
    await client.confirmPasswordReset(token, 'Th1rd-Secret-Pass!!');
    expect(codeOf(await client.listFiles().catch((e: unknown) => e))).toMatch(/^(TOKEN_|SESSION_)/);
    const third = env.smtp.mailsTo(email).length;
    const relogin = await client.login(username, 'Th1rd-Secret-Pass!!');
    await client.verifyOtp(relogin.sessionId, await env.smtp.codeFor(email, third));

    // A token about to expire is refreshed before the call, and the new pair told.
    const count = told.length;
    const nearlyExpired = newClient({ ...(client.session as Tokens), expiresAt: Math.floor(Date.now() / 1000) + 5 }, (t) =>
      told.push(t),
    );
    expect((await nearlyExpired.listSessions()).some((s) => s.current)).toBe(true);
    expect(told).toHaveLength(count + 1);
    expect(nearlyExpired.session?.accessToken).not.toBe(client.session?.accessToken);
    await nearlyExpired.logout();
    expect(nearlyExpired.session).toBeUndefined();
    expect(told.at(-1)).toBeUndefined();
    expect(codeOf(await nearlyExpired.listFiles().catch((e: unknown) => e))).toBe('TOKEN_INVALID');

    // Signed in twice more: logoutAll ends both sessions.
    const signIns = [newClient(), newClient()];
    for (const other of signIns) {
      const mails = env.smtp.mailsTo(email).length;
      const started = await other.login(username, 'Th1rd-Secret-Pass!!');
      await other.verifyOtp(started.sessionId, await env.smtp.codeFor(email, mails));
    }
    await signIns[0].logoutAll();
    expect(codeOf(await signIns[1].listFiles().catch((e: unknown) => e))).toMatch(/^(TOKEN_|SESSION_)/);
  });

  it('uploads 100 MiB from a path and downloads it, streamed, with progress, byte-identical', async () => {
    const { client } = await signedIn('big');
    const data = randomBytes(100 * MiB);
    const source = join(dir, 'hundred.bin');
    await writeFile(source, data);
    const sent: number[] = [];
    const file = await client.uploadFile(source, {
      onProgress: (bytes, total) => (expect(total).toBe(data.length), sent.push(bytes)),
    });
    expect(file).toMatchObject({ fileSize: data.length, checksum: sha256(data) });
    expect(sent.at(-1)).toBe(data.length);
    expect(sent.length).toBeGreaterThan(50);
    expect(sent.every((bytes, i) => i === 0 || bytes >= sent[i - 1])).toBe(true);

    const received: number[] = [];
    const target = join(dir, 'hundred.out');
    const downloaded = await client.downloadFile(file.fileId, target, { onProgress: (bytes) => received.push(bytes) });
    expect(downloaded).toMatchObject({ path: target, size: data.length, sha256: sha256(data) });
    expect(received.at(-1)).toBe(data.length);
    expect(sha256(await readFile(target))).toBe(sha256(data));
    // A directory as the target: the file's own name in it.
    // (where the source is: kept, unless overwritten on purpose)
    await expect(client.downloadFile(file.fileId, dir)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await client.downloadFile(file.fileId, dir, { overwrite: true })).path).toBe(join(dir, 'hundred.bin'));

    const opened = await client.openDownload(file.fileId);
    expect(opened).toMatchObject({ filename: 'hundred.bin', size: data.length, sha256: sha256(data) });
    const hash = createHash('sha256');
    for await (const piece of opened.stream) hash.update(piece as Buffer);
    expect(hash.digest('hex')).toBe(sha256(data));
    expect((await client.getQuotaStatus()).usedBytes).toBe(data.length);
  });

  it('resumes an interrupted upload without sending its stored bytes again', async () => {
    const { client } = await signedIn('resume');
    const data = randomBytes(32 * MiB + 321);
    const source = join(dir, 'resume.bin');
    await writeFile(source, data);
    let uploadId = '';
    const stop = new AbortController();
    const interrupted = await client
      .uploadFile(source, {
        onUploadCreated: (id) => (uploadId = id),
        onProgress: (bytes) => bytes >= 16 * MiB && stop.abort(),
        signal: stop.signal,
      })
      .catch((e: unknown) => e);
    expect((interrupted as Error).name).toBe('AbortError');
    // The gateway keeps the chunks its nodes stored once it sees the stream cancelled.
    const stood = await waitFor('the interrupted upload’s chunks kept', async () => {
      const status = await client.getUploadStatus(uploadId);
      return status.offset > 0 ? status : false;
    });
    expect(stood.size).toBe(data.length);

    const progress: number[] = [];
    const file = await client.uploadFile(source, { uploadId, onProgress: (bytes) => progress.push(bytes) });
    // It began where the cluster stood.
    expect(progress[0]).toBe(stood.offset);
    expect(file).toMatchObject({ fileId: stood.fileId, fileSize: data.length, checksum: sha256(data) });
    expect((await client.getUploadStatus(uploadId)).offset).toBe(data.length);
  });

  it('uploads bytes and streams, lists, deletes, restores and purges, and names what fails by its code', async () => {
    const { client, userId } = await signedIn('files');
    const bytes = randomBytes(3000);
    const fromBytes = await client.uploadFile(bytes, { filename: 'bytes.bin' });
    const stream = randomBytes(5 * MiB + 7);
    const fromStream = await client.uploadFile(Readable.from([stream.subarray(0, MiB), stream.subarray(MiB)]), {
      filename: 'stream.bin',
      size: stream.length,
    });
    const unsized = await client.uploadFile(Readable.from([Buffer.from('hello')]), { filename: 'hello.txt' });
    expect(fromStream.checksum).toBe(sha256(stream));
    expect(unsized.fileSize).toBe(5);
    const listed = await client.listFiles({ limit: 2 });
    expect(listed.totalCount).toBe(3);
    expect(listed.files).toHaveLength(2);
    expect((await client.listFiles({ filter: 'bytes' })).files.map((f) => f.fileId)).toEqual([fromBytes.fileId]);

    expect(await client.deleteFile(fromBytes.fileId)).toBe(bytes.length);
    expect((await client.listTrash()).files.map((f) => f.fileId)).toEqual([fromBytes.fileId]);
    expect(await client.restoreFile(fromBytes.fileId)).toMatchObject({ fileId: fromBytes.fileId, filename: 'bytes.bin' });
    await client.deleteFile(unsized.fileId);
    expect(await client.purgeFile(unsized.fileId)).toBe(5);
    expect((await client.listTrash()).totalCount).toBe(0);

    const missing = '00000000-0000-4000-8000-000000000000';
    const failure = await client.downloadFile(missing, join(dir, 'missing.bin')).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CloudStorageError);
    expect(failure).toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect((await readdir(dir)).filter((name) => name.startsWith('missing'))).toEqual([]);
    expect(codeOf(await client.uploadFile(bytes).catch((e: unknown) => e))).toBe('INVALID_FILENAME');
    await (await adminClient()).updateUser(userId, { quotaBytes: 8 * MiB });
    const tooBig = await client.uploadFile(randomBytes(4 * MiB), { filename: 'over.bin' }).catch((e: unknown) => e);
    expect(tooBig).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(
      codeOf(
        await newClient()
          .listFiles()
          .catch((e: unknown) => e),
      ),
    ).toBe('TOKEN_INVALID');
  });

  it('shares, links and versions a file', async () => {
    const owner = await signedIn('owner');
    const grantee = await signedIn('grantee');
    const first = randomBytes(1000);
    const file = await owner.client.uploadFile(first, { filename: 'doc.txt' });
    expect(await owner.client.shareFile(file.fileId, grantee.username)).toMatchObject({
      username: grantee.username,
      permission: 'read',
    });
    expect((await owner.client.listFileShares(file.fileId)).map((s) => s.username)).toEqual([grantee.username]);
    const shared = await grantee.client.listSharedWithMe();
    expect(shared.files[0]).toMatchObject({ ownerUsername: owner.username, file: { fileId: file.fileId } });
    const opened = await grantee.client.openDownload(file.fileId);
    expect(opened.sha256).toBe(sha256(first));
    opened.stream.destroy();
    expect(codeOf(await grantee.client.deleteFile(file.fileId).catch((e: unknown) => e))).toBe('PERMISSION_DENIED');
    await owner.client.unshareFile(file.fileId, grantee.username);
    expect(codeOf(await grantee.client.openDownload(file.fileId).catch((e: unknown) => e))).toBe('FILE_NOT_FOUND');

    const link = await owner.client.createDownloadLink(file.fileId, { expiresInSeconds: 600, password: 'open sesame' });
    expect(link).toMatchObject({ fileId: file.fileId, hasPassword: true, url: expect.stringContaining('/v1/links/') });
    const viaLink = await fetch(link.url as string, { headers: { 'x-link-password': 'open sesame' } });
    expect(sha256(Buffer.from(await viaLink.arrayBuffer()))).toBe(sha256(first));
    expect((await owner.client.listDownloadLinks(file.fileId)).map((l) => l.linkId)).toEqual([link.linkId]);
    await owner.client.revokeDownloadLink(file.fileId, link.linkId);
    expect((await fetch(link.url as string, { headers: { 'x-link-password': 'open sesame' } })).status).toBe(404);

    const second = randomBytes(2000);
    await owner.client.uploadFile(second, { filename: 'doc.txt', fileId: file.fileId });
    const versions = await owner.client.listFileVersions(file.fileId);
    expect(versions.map((v) => [v.version, v.current])).toEqual([
      [2, true],
      [1, false],
    ]);
    const old = await owner.client.openDownload(file.fileId, { versionId: versions[1]?.versionId });
    expect(old.sha256).toBe(sha256(first));
    old.stream.destroy();
    expect(await owner.client.restoreFileVersion(file.fileId, versions[1]?.versionId)).toMatchObject({
      fileSize: 1000,
    });
    const events = await owner.client.listAuditEvents({ operation: 'file.upload' });
    expect(events.events.length).toBeGreaterThanOrEqual(2);
  });

  it('enrols and disables an authenticator, exports the account and erases it', async () => {
    const { client, username } = await signedIn('totp');
    const { secret, otpauthUri } = await client.enrollTotp(TEST_PASSWORD);
    expect(otpauthUri).toContain('otpauth://totp/');
    expect(await client.confirmTotp(await generate({ secret }))).toHaveLength(10);
    const login = await newClient().login(username, TEST_PASSWORD);
    expect(login.otpMethod).toBe('totp');
    await client.disableTotp(await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }), TEST_PASSWORD);

    await client.uploadFile(Buffer.from('kept'), { filename: 'kept.txt' });
    const archive: Buffer[] = [];
    for await (const piece of await client.exportUserData()) archive.push(piece as Buffer);
    expect(Buffer.concat(archive).toString('latin1')).toContain('kept.txt');
    expect(await client.deleteAccount(TEST_PASSWORD)).toEqual({ filesErased: 1 });
    expect(client.session).toBeUndefined();
  });

  /** The admin, signed in through the SDK with the mailed code. */
  let admin: CloudStorageClient | undefined;
  async function adminClient(): Promise<CloudStorageClient> {
    if (admin) return admin;
    admin = newClient();
    const before = env.smtp.mailsTo(ADMIN.email).length;
    const { sessionId } = await admin.login(ADMIN.username, ADMIN.password);
    await admin.verifyOtp(sessionId, await env.smtp.codeFor(ADMIN.email, before));
    return admin;
  }

  it('gives the admin the users, the cluster, the audit trail and node drains', async () => {
    const root = await adminClient();
    const { userId, client } = await signedIn('managed');
    expect(codeOf(await client.getClusterStatus().catch((e: unknown) => e))).toBe('PERMISSION_DENIED');
    const users = await root.listUsers({ filter: 'managed_' });
    expect(users.users.map((u) => u.userId)).toContain(userId);
    expect(await root.updateUser(userId, { role: 'premium', quotaBytes: 64 * MiB })).toMatchObject({
      role: 'premium',
      quotaBytes: 64 * MiB,
    });
    // A new role ends the account's sessions.
    expect(codeOf(await client.listFiles().catch((e: unknown) => e))).toBe('TOKEN_REVOKED');
    const cluster = await root.getClusterStatus();
    expect(cluster.nodes.length).toBeGreaterThanOrEqual(3);
    expect(cluster.nodes.every((n) => n.status === 'up')).toBe(true);
    expect((await root.listAllAuditEvents({ userId, limit: 5 })).events.length).toBeGreaterThan(0);
    expect(await root.deleteUser(userId)).toMatchObject({ filesErased: 0 });
    // (A real drain would change where the other tests' chunks go: the call is made on no node.)
    expect(codeOf(await root.drainNode('no-such-node').catch((e: unknown) => e))).toBe('NOT_FOUND');
  });
});
