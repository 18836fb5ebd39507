import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { type ClientReadableStream, Metadata } from '@grpc/grpc-js';
import type { publicApi } from '@cloudstore/contracts';
import {
  type MasterKey,
  MasterKeyring,
  masterKey,
  open,
  unwrapDataKey,
  unwrapUserKey,
  wrapDataKey,
} from '@cloudstore/master-key';
import { waitFor } from '@cloudstore/testing';
import { Client } from 'pg';
import { extract } from 'tar-stream';
import { publicGrpcClient, RestClient } from './support/api-clients';
import { signInAs, signUp, TEST_PASSWORD, type TestUser } from './support/accounts';
import { ClusterProcess } from './support/cluster-process';
import { chunkFilesOnDisk, restUpload, sha256 } from './support/file-transfers';
import { SmtpSink } from './support/smtp-sink';

const DIST = join(__dirname, '../../dist/apps');
const ROTATE_CLIS = [join(DIST, 'metadata/src/user-keys/rotate-master-cli.js'), join(DIST, 'auth/src/secrets/reseal-cli.js')];
const AUDIT_VERIFY_CLI = join(DIST, 'metadata/src/audit-verify.js');

const ADMIN = { username: 'privacy_admin', email: 'privacy-admin@example.com', password: TEST_PASSWORD };

/**
 * Issue 15 parts 3 to 5 through the real cluster: the GDPR export; the erasure, against every
 * table and the chunks on the nodes' disks (crypto-shredding: a chunk copied aside, of a file of
 * now or from before user keys, opens with nothing left); per-user keys; and a master-key rotation
 * done as the README's runbook says (restart with both keys, `npm run keys:rotate-master`,
 * restart with the new key alone).
 */
describe('GDPR export and erasure, per-user keys and master-key rotation (real cluster)', () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);
  const masters = [masterKey(keyA), masterKey(keyB)] as const;
  let smtp: SmtpSink;
  let cluster: ClusterProcess;
  let rest: RestClient;
  let pg: Client;
  let admin: TestUser;

  beforeAll(async () => {
    smtp = await SmtpSink.start();
    cluster = await ClusterProcess.start({
      SMTP_URL: smtp.url,
      MASTER_KEY: keyA.toString('base64'),
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
    });
    await cluster.waitUntilReady();
    rest = new RestClient(cluster.httpUrl);
    pg = new Client({ connectionString: String(cluster.env['DATABASE_URL']) });
    await pg.connect();
    admin = await signInAs(rest, smtp, ADMIN);
  });

  afterAll(async () => {
    await pg?.end();
    await cluster?.destroy();
    await smtp?.close();
  });

  async function sql<T extends object>(text: string, values: unknown[] = []): Promise<T[]> {
    return (await pg.query<T>(text, values)).rows;
  }

  async function download(user: TestUser, fileId: string): Promise<{ status: number; body: Buffer }> {
    const res = await rest.fetch(`/v1/files/${fileId}/content`, { headers: { authorization: `Bearer ${user.token}` } });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  }

  /** The bytes of a file's first chunk as a node holds them on its disk. */
  async function chunkOnDisk(fileId: string): Promise<Buffer> {
    const [chunk] = await sql<{ id: string }>(
      `SELECT c.id FROM metadata.chunks c JOIN metadata.files f ON f.id = c.file_id WHERE f.public_id = $1 AND c.index = 0`,
      [fileId],
    );
    const path = (await chunkFilesOnDisk(cluster.dataDir)).find((p) => basename(p) === chunk?.id);
    if (!path) throw new Error(`no replica of ${fileId} on disk`);
    return readFile(path);
  }

  /**
   * Every plaintext anyone holding all the database has left and the master keys could make of a
   * chunk: each master key, each user key they unwrap, and each data key any of those unwraps.
   */
  async function everythingOpens(chunk: Buffer, fileId: string): Promise<Buffer[]> {
    const attempt = <T>(f: () => T): T[] => {
      try {
        return [f()];
      } catch {
        return [];
      }
    };
    const users = await sql<{ user_id: string; wrapped_key: Buffer | null }>(
      `SELECT user_id, wrapped_key FROM metadata.user_keys`,
    );
    const files = await sql<{ public_id: string; wrapped_data_key: Buffer | null }>(
      `SELECT public_id, wrapped_data_key FROM metadata.files WHERE wrapped_data_key IS NOT NULL`,
    );
    const wrapping = [
      ...masters.map((m) => m.key),
      ...users.flatMap((u) =>
        masters.flatMap((m) =>
          attempt(() => unwrapUserKey(new MasterKeyring(m), u.user_id, u.wrapped_key ?? Buffer.alloc(0), m.id)),
        ),
      ),
    ];
    const dataKeys = files.flatMap((f) =>
      wrapping.flatMap((k) => attempt(() => unwrapDataKey(k, f.public_id, f.wrapped_data_key ?? Buffer.alloc(0)))),
    );
    return [...wrapping, ...dataKeys].flatMap((k) => attempt(() => open(k, chunk, `chunk 0 of file ${fileId}`)));
  }

  /** Turns a stored file back into the form of before user keys: its data key wrapped by `master` directly. */
  async function toOldForm(user: TestUser, fileId: string, master: MasterKey): Promise<void> {
    const [row] = await sql<{ wrapped_data_key: Buffer; wrapped_key: Buffer; master_key_id: string }>(
      `SELECT f.wrapped_data_key, k.wrapped_key, k.master_key_id FROM metadata.files f
       JOIN metadata.user_keys k ON k.user_id = f.owner_id WHERE f.public_id = $1 AND f.owner_id = $2`,
      [fileId, user.userId],
    );
    if (!row) throw new Error(`no file ${fileId}`);
    const userKey = unwrapUserKey(new MasterKeyring(master), user.userId, row.wrapped_key, row.master_key_id);
    const dataKey = unwrapDataKey(userKey, fileId, row.wrapped_data_key);
    await sql(
      `UPDATE metadata.files SET wrapped_data_key = $1, master_key_id = $2, wrapped_by_user_key = false WHERE public_id = $3 AND owner_id = $4`,
      [wrapDataKey(master.key, fileId, dataKey), master.id, fileId, user.userId],
    );
  }

  async function rotateMaster(env: NodeJS.ProcessEnv): Promise<string> {
    let out = '';
    for (const cli of ROTATE_CLIS) out += (await promisify(execFile)(process.execPath, [cli], { env })).stdout;
    return out;
  }

  /** Every entry of a tar archive: name and bytes. */
  async function unpack(tar: Buffer): Promise<Map<string, Buffer>> {
    const entries = new Map<string, Buffer>();
    for await (const entry of Readable.from([tar]).pipe(extract())) {
      const parts: Buffer[] = [];
      for await (const part of entry as AsyncIterable<Buffer>) parts.push(part);
      entries.set(entry.header.name, Buffer.concat(parts));
    }
    return entries;
  }

  /** Rows of every table of auth and metadata whose text holds one of `needles`, as `table: row`. */
  async function rowsNaming(needles: string[]): Promise<string[]> {
    const tables = await sql<{ name: string }>(
      `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
       WHERE table_schema IN ('auth', 'metadata') AND table_type = 'BASE TABLE'`,
    );
    const found: string[] = [];
    for (const { name } of tables) {
      for (const needle of needles) {
        const rows = await sql<{ row: string }>(`SELECT t::text AS row FROM ${name} t WHERE t::text ILIKE $1`, [`%${needle}%`]);
        found.push(...rows.map((r) => `${name}: ${r.row}`));
      }
    }
    return found;
  }

  async function auditSealedAndVerified(): Promise<string> {
    await waitFor(
      'every audit row sealed',
      async () => (await sql(`SELECT id FROM metadata.audit_log WHERE chain_seq IS NULL`)).length === 0,
    );
    return (await promisify(execFile)(process.execPath, [AUDIT_VERIFY_CLI], { env: cluster.env })).stdout;
  }

  it('exports every live file byte-identical and one JSON document of the account, files, trash, shares and audit events (REST and gRPC)', async () => {
    const alice = await signUp(rest, smtp, 'export');
    const eve = await signUp(rest, smtp, 'other');
    const evesFile = await restUpload(cluster.httpUrl, eve.token, 'not-alices.bin', randomBytes(10));
    expect((await rest.post(`/v1/files/${evesFile}/shares`, { username: alice.username }, eve.token)).status).toBe(201);
    const contents = new Map<string, Buffer>();
    for (const [name, size] of [
      ['notes.txt', 1_000],
      ['notes.txt', 2_000],
      ['Fotos – été ☀️.bin', 5_000_000],
      ['empty', 0],
    ] as const) {
      const data = randomBytes(size);
      contents.set(await restUpload(cluster.httpUrl, alice.token, name, data), data);
    }
    const [sharedByAlice] = [...contents.keys()];
    // A second version of that file: the first is kept, and exported too.
    const firstVersion = contents.get(sharedByAlice) as Buffer;
    const secondVersion = randomBytes(1500);
    const versioned = await rest.fetch(`/v1/files?filename=notes.txt&file_id=${sharedByAlice}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice.token}` },
      body: secondVersion,
    });
    expect(versioned.status).toBe(201);
    contents.set(sharedByAlice, secondVersion);
    expect((await rest.post(`/v1/files/${sharedByAlice}/shares`, { username: eve.username }, alice.token)).status).toBe(201);
    const trashed = await restUpload(cluster.httpUrl, alice.token, 'old.bin', randomBytes(10));
    expect((await rest.request('DELETE', `/v1/files/${trashed}`, { token: alice.token })).status).toBe(200);

    const res = await rest.fetch('/v1/me/export', { headers: { authorization: `Bearer ${alice.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-tar');
    expect(res.headers.get('content-disposition')).toContain(`cloudstore-export-${alice.username}-`);
    const entries = await unpack(Buffer.from(await res.arrayBuffer()));
    const document = JSON.parse(entries.get('cloudstore-export.json')?.toString() ?? '{}') as {
      format: string;
      account: Record<string, unknown>;
      files: {
        file_id: string;
        filename: string;
        checksum: string;
        archive_path: string;
        earlier_versions: { version_id: string; checksum: string; archive_path: string }[];
      }[];
      trash: { file_id: string }[];
      sessions: unknown[];
      shares: unknown;
      audit_events: { operation: string; user_id: string; file_id?: string }[];
    };
    expect(document).toMatchObject({
      format: 'cloudstore-export',
      version: 1,
      account: { user_id: alice.userId, username: alice.username, email: alice.email },
      shares: {
        granted: [{ file_id: sharedByAlice, username: eve.username, permission: 'read' }],
        // Described only: the bytes of another user's file are not the caller's data.
        received: [{ file_id: evesFile, filename: 'not-alices.bin', shared_by: eve.username, permission: 'read' }],
      },
    });
    expect(document.sessions.length).toBeGreaterThan(0);
    expect(document.files.map((f) => f.file_id).sort()).toEqual([...contents.keys()].sort());
    for (const file of document.files) {
      const data = contents.get(file.file_id) as Buffer;
      expect(entries.get(file.archive_path)?.equals(data)).toBe(true);
      expect(file.archive_path.endsWith(`/${file.filename}`)).toBe(true);
      expect(file.checksum).toBe(sha256(data));
    }
    const earlier = document.files.flatMap((f) => f.earlier_versions);
    expect(earlier).toEqual([
      expect.objectContaining({
        version_id: '1',
        checksum: sha256(firstVersion),
        archive_path: `versions/${sharedByAlice}/1/notes.txt`,
      }),
    ]);
    expect(entries.get(`versions/${sharedByAlice}/1/notes.txt`)?.equals(firstVersion)).toBe(true);
    expect([...entries.keys()].sort()).toEqual(
      ['cloudstore-export.json', ...document.files.map((f) => f.archive_path), ...earlier.map((v) => v.archive_path)].sort(),
    );
    expect(document.trash.map((f) => f.file_id)).toEqual([trashed]);
    const uploads = document.audit_events.filter((e) => e.operation === 'file.upload');
    expect(uploads.map((e) => e.file_id).sort()).toEqual([...contents.keys(), sharedByAlice, trashed].sort());
    expect(new Set(document.audit_events.map((e) => e.user_id))).toEqual(new Set([alice.userId]));

    // The gRPC export streams the same archive.
    const grpc = publicGrpcClient(`127.0.0.1:${cluster.ports.grpc}`);
    try {
      const call = (
        grpc.raw['exportUserData'] as (
          r: publicApi.ExportUserDataRequest,
          m: Metadata,
        ) => ClientReadableStream<publicApi.ExportUserDataResponse>
      ).call(grpc.raw, { authToken: alice.token }, new Metadata());
      const parts: Buffer[] = [];
      for await (const message of call as AsyncIterable<publicApi.ExportUserDataResponse>) parts.push(Buffer.from(message.chunk));
      const viaGrpc = await unpack(Buffer.concat(parts));
      for (const file of document.files)
        expect(viaGrpc.get(file.archive_path)?.equals(contents.get(file.file_id) as Buffer)).toBe(true);
    } finally {
      grpc.close();
    }
    const anonymous = await rest.fetch('/v1/me/export');
    expect(anonymous.status).toBe(401);
  });

  it('erases a user: password re-confirmed, nothing names them, their chunks leave every node, and a chunk copied aside opens with nothing left', async () => {
    const bob = await signUp(rest, smtp, 'shred');
    const data = randomBytes(100_000);
    const current = await restUpload(cluster.httpUrl, bob.token, 'current.bin', data);
    const old = await restUpload(cluster.httpUrl, bob.token, 'old.bin', data);
    const binned = await restUpload(cluster.httpUrl, bob.token, 'binned.bin', randomBytes(5_000));
    expect((await rest.request('DELETE', `/v1/files/${binned}`, { token: bob.token })).status).toBe(200);
    const [masterNow] = masters.filter((m) => m.key.equals(Buffer.from(String(cluster.env['MASTER_KEY']), 'base64')));
    await toOldForm(bob, old, masterNow);
    expect((await download(bob, old)).body.equals(data)).toBe(true);
    const chunks = { current: await chunkOnDisk(current), old: await chunkOnDisk(old) };
    expect(await everythingOpens(chunks.current, current)).toContainEqual(data);
    expect(await everythingOpens(chunks.old, old)).toContainEqual(data);
    const chunkIds = (
      await sql<{ id: string }>(
        `SELECT c.id FROM metadata.chunks c JOIN metadata.files f ON f.id = c.file_id WHERE f.owner_id = $1`,
        [bob.userId],
      )
    ).map((r) => r.id);
    expect(chunkIds.length).toBe(3);
    // Shares both ways: bob's file with carol, and carol's with bob.
    const carol = await signUp(rest, smtp, 'carol');
    const carols = await restUpload(cluster.httpUrl, carol.token, 'carols.bin', randomBytes(10));
    expect((await rest.post(`/v1/files/${carols}/shares`, { username: bob.username }, carol.token)).status).toBe(201);
    expect((await rest.post(`/v1/files/${current}/shares`, { username: carol.username }, bob.token)).status).toBe(201);
    // Rows that name bob other than as the actor: an admin's change, a refused registration of the name.
    expect((await rest.patch(`/v1/admin/users/${bob.userId}`, { quota_bytes: 10_000_000 }, admin.token)).status).toBe(200);
    expect(
      (await rest.post('/v1/auth/register', { username: bob.username, email: 'x@example.com', password: TEST_PASSWORD })).status,
    ).toBe(409);

    const wrong = await rest.request('DELETE', '/v1/me', { body: { password: 'not-the-password' }, token: bob.token });
    expect(wrong).toMatchObject({ status: 401, body: { code: 'INVALID_CREDENTIALS' } });
    expect((await download(bob, current)).body.equals(data)).toBe(true);
    // What auth queued about bob reaches the audit log before the erasure (later ones: its second pass).
    await waitFor('the refused erasure in the audit log', async () => {
      return (
        (await sql(`SELECT id FROM metadata.audit_log WHERE operation = 'account.erase' AND user_id = $1`, [bob.userId]))
          .length === 1
      );
    });

    // The check has teeth: before, it finds bob in auth, the files, the quotas, the key and the audit log.
    const tables = (await rowsNaming([bob.userId, bob.username])).map((row) => row.slice(0, row.indexOf(':')));
    expect(new Set(tables)).toEqual(
      new Set([
        'auth.users',
        'auth.sign_ins',
        'auth.refresh_tokens',
        'metadata.files',
        'metadata.uploads',
        'metadata.user_quotas',
        'metadata.user_keys',
        'metadata.file_shares',
        'metadata.audit_log',
      ]),
    );

    const erased = await rest.request('DELETE', '/v1/me', { body: { password: bob.password }, token: bob.token });
    expect(erased).toMatchObject({ status: 200, body: { success: true, user_id: bob.userId, files_erased: 3 } });
    const pseudonym = erased.body['pseudonym'] as string;

    expect(await everythingOpens(chunks.current, current)).toEqual([]);
    expect(await everythingOpens(chunks.old, old)).toEqual([]);
    expect((await rest.get('/v1/files', bob.token)).status).toBe(401);
    expect((await rest.post('/v1/auth/login', { username: bob.username, password: bob.password })).body['code']).toBe(
      'INVALID_CREDENTIALS',
    );
    expect(await rowsNaming([bob.userId, bob.username, bob.email])).toEqual([]);
    expect((await rest.get('/v1/shared-with-me', carol.token)).body).toEqual({ files: [], total_count: 0 });
    expect((await rest.get(`/v1/files/${carols}/shares`, carol.token)).body).toEqual({ shares: [] });
    await waitFor('no chunk of the erased user on any node', async () => {
      const onDisk = new Set((await chunkFilesOnDisk(cluster.dataDir)).map((p) => basename(p)));
      return chunkIds.every((id) => !onDisk.has(id));
    });
    const own = await rest.get<{ events: { operation: string; user_id: string }[] }>(
      `/v1/admin/audit?user_id=${pseudonym}&limit=1000`,
      admin.token,
    );
    expect(own.body.events.map((e) => e.operation)).toEqual(
      expect.arrayContaining(['account.erase', 'file.upload', 'auth.login']),
    );
    expect(await auditSealedAndVerified()).toMatch(/^audit:verify: audit chain intact/);
  });

  it('lets an admin erase another account, audited as the admin’s act; not their own, not an unknown one, and not for non-admins', async () => {
    const carol = await signUp(rest, smtp, 'carol');
    await restUpload(cluster.httpUrl, carol.token, 'c.bin', randomBytes(1_000));
    const dan = await signUp(rest, smtp, 'dan');
    expect((await rest.request('DELETE', `/v1/admin/users/${carol.userId}`, { token: dan.token })).status).toBe(403);
    expect((await rest.request('DELETE', `/v1/admin/users/${admin.userId}`, { token: admin.token })).status).toBe(400);
    expect((await rest.request('DELETE', `/v1/admin/users/${randomUUID()}`, { token: admin.token })).status).toBe(404);

    const erased = await rest.request('DELETE', `/v1/admin/users/${carol.userId}`, { token: admin.token });
    expect(erased).toMatchObject({ status: 200, body: { user_id: carol.userId, files_erased: 1 } });
    expect((await rest.get('/v1/files', carol.token)).status).toBe(401);
    expect(await rowsNaming([carol.userId, carol.username, carol.email])).toEqual([]);
    const [event] = await sql<{ user_id: string; subject_user_id: string }>(
      `SELECT user_id, subject_user_id FROM metadata.audit_log WHERE operation = 'admin.user_erase'`,
    );
    expect(event).toEqual({ user_id: admin.userId, subject_user_id: erased.body['pseudonym'] });
    expect((await rest.request('DELETE', `/v1/admin/users/${carol.userId}`, { token: admin.token })).status).toBe(404);
  });

  it('rotates the master key by the runbook: files from before it, and from before user keys, download byte-identical with the new key alone', async () => {
    const alice = await signUp(rest, smtp, 'rotate');
    const files = new Map<string, Buffer>();
    for (const size of [1, 5_000_000])
      files.set(await restUpload(cluster.httpUrl, alice.token, `f${size}.bin`, randomBytes(size)), Buffer.alloc(0));
    for (const [id] of files) files.set(id, (await download(alice, id)).body);
    const [oldId] = [...files.keys()];
    const [from, to] = cluster.env['MASTER_KEY'] === keyA.toString('base64') ? [keyA, keyB] : [keyB, keyA];
    await toOldForm(alice, oldId, masterKey(from));

    // 2. Restart with the new key and the old one as previous.
    const both = { MASTER_KEY: to.toString('base64'), MASTER_KEY_PREVIOUS: from.toString('base64') };
    cluster = await cluster.restart(both);
    for (const [id, data] of files) expect((await download(alice, id)).body.equals(data)).toBe(true);

    // 3. The rotation.
    const printed = await rotateMaster({ ...cluster.env, ...both });
    expect(printed).toContain(`every user key and the audit chain keys are wrapped by master key ${masterKey(to).id}`);
    expect(printed).toMatch(/auth re-sealed \d+ signing keys and \d+ TOTP secrets/);
    expect(await sql(`SELECT user_id FROM metadata.user_keys WHERE master_key_id <> $1`, [masterKey(to).id])).toEqual([]);
    expect(await sql(`SELECT id FROM metadata.files WHERE wrapped_data_key IS NOT NULL AND NOT wrapped_by_user_key`)).toEqual([]);
    expect(
      await sql(`SELECT key_id FROM auth.signing_keys WHERE private_key_pem NOT LIKE $1`, [`v1.${masterKey(to).id}.%`]),
    ).toEqual([]);

    // 4. The old key removed from the configuration: everything still reads, sign-in included.
    cluster = await cluster.restart({ MASTER_KEY: to.toString('base64'), MASTER_KEY_PREVIOUS: undefined });
    const again = await signInAs(rest, smtp, alice);
    for (const [id, data] of files) expect((await download(again, id)).body.equals(data)).toBe(true);
    // The audit chain, sealed under one set of keys before, during and after the rotation, verifies with the new key alone.
    expect(await auditSealedAndVerified()).toMatch(/^audit:verify: audit chain intact: \d+ rows checked/);
  });
});
