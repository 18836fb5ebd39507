import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { FILE_SERVICE, type filesApi } from '@cloudstore/contracts';
import { GrpcServiceClient } from '@cloudstore/grpc';
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
import { bearer, RestClient } from './support/api-clients';
import { signInAs, signUp, type TestUser } from './support/accounts';
import { ClusterProcess } from './support/cluster-process';
import { chunkFilesOnDisk, restUpload } from './support/file-transfers';
import { SmtpSink } from './support/smtp-sink';

const DIST = join(__dirname, '../../dist/apps');
const ROTATE_CLIS = [join(DIST, 'metadata/src/user-keys/rotate-master-cli.js'), join(DIST, 'auth/src/secrets/reseal-cli.js')];
const AUDIT_VERIFY_CLI = join(DIST, 'metadata/src/audit-verify.js');

/**
 * Issue 15 part 3 through the real cluster: per-user keys, crypto-shredding of a user against the
 * chunks on a node's disk, files stored before user keys, and a master-key rotation done as the
 * README's runbook says (restart with both keys, `npm run keys:rotate-master`, restart with the
 * new key alone).
 */
describe('per-user keys and master-key rotation (real cluster)', () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);
  const masters = [masterKey(keyA), masterKey(keyB)] as const;
  let smtp: SmtpSink;
  let cluster: ClusterProcess;
  let rest: RestClient;
  let pg: Client;

  beforeAll(async () => {
    smtp = await SmtpSink.start();
    cluster = await ClusterProcess.start({ SMTP_URL: smtp.url, MASTER_KEY: keyA.toString('base64') });
    await cluster.waitUntilReady();
    rest = new RestClient(cluster.httpUrl);
    pg = new Client({ connectionString: String(cluster.env['DATABASE_URL']) });
    await pg.connect();
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

  it('crypto-shreds a user: a chunk read from a node before opens with nothing the system holds afterwards', async () => {
    const bob = await signUp(rest, smtp, 'shred');
    const data = randomBytes(100_000);
    const current = await restUpload(cluster.httpUrl, bob.token, 'current.bin', data);
    const old = await restUpload(cluster.httpUrl, bob.token, 'old.bin', data);
    const [masterNow] = masters.filter((m) => m.key.equals(Buffer.from(String(cluster.env['MASTER_KEY']), 'base64')));
    await toOldForm(bob, old, masterNow);
    expect((await download(bob, old)).body.equals(data)).toBe(true);
    const chunks = { current: await chunkOnDisk(current), old: await chunkOnDisk(old) };
    expect(await everythingOpens(chunks.current, current)).toContainEqual(data);
    expect(await everythingOpens(chunks.old, old)).toContainEqual(data);

    const metadata = new GrpcServiceClient<filesApi.FileServiceClient>(
      FILE_SERVICE,
      `127.0.0.1:${cluster.ports.metadata}`,
      await cluster.internalTransport('gateway'),
      10_000,
    );
    try {
      const destroyed = await metadata.call('destroyUserKey', {}, { metadata: bearer(bob.token) });
      expect(destroyed).toEqual({ destroyed: true, wipedDataKeys: 1 });
    } finally {
      metadata.close();
    }

    expect(await everythingOpens(chunks.current, current)).toEqual([]);
    expect(await everythingOpens(chunks.old, old)).toEqual([]);
    expect((await download(bob, current)).status).toBe(404);
    const refused = await rest.fetch('/v1/files?filename=again.bin', {
      method: 'PUT',
      headers: { authorization: `Bearer ${bob.token}` },
      body: data,
    });
    expect(refused.status).toBe(403);
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
    await waitFor(
      'every audit row sealed',
      async () => (await sql(`SELECT id FROM metadata.audit_log WHERE chain_seq IS NULL`)).length === 0,
    );
    const verified = await promisify(execFile)(process.execPath, [AUDIT_VERIFY_CLI], { env: cluster.env });
    expect(verified.stdout).toMatch(/^audit:verify: audit chain intact: \d+ rows checked/);
  });
});
