import { randomBytes, randomUUID } from 'node:crypto';
import {
  type MasterKey,
  MasterKeyring,
  masterKey,
  newUserKey,
  open,
  seal,
  UnknownMasterKeyError,
  unwrapDataKey,
  unwrapUserKey,
  wrapDataKey,
} from '@cloudstore/master-key';
import { createTestDataSource, newChunk, type TestDataSource } from '@cloudstore/testing';
import type { DataSource } from 'typeorm';
import { createMetadataDataSource, METADATA_SCHEMA } from '../database/metadata-data-source';
import { FileEntity } from '../files/file.entity';
import { AuditChainKeysRepository } from '../audit/audit-chain-keys.repository';
import { FilesRepository } from '../files/files.repository';
import { UserErasureRepository } from '../user-erasure/user-erasure.repository';
import { MasterKeyRotation } from './master-key-rotation';
import { UserKeysRepository } from './user-keys.repository';
import { UserKeysService } from './user-keys.service';

/** A committed file of one sealed chunk, its data key wrapped as a gateway of either version wraps it. */
async function storeFile(dataSource: DataSource, ownerId: string, wrapping: { userKey: Buffer } | { master: MasterKey }) {
  const publicId = randomUUID();
  const dataKey = randomBytes(32);
  const plain = randomBytes(1000);
  const chunk = seal(dataKey, plain, `chunk 0 of file ${publicId}`);
  const byUser = 'userKey' in wrapping;
  const file = await dataSource.transaction((manager) =>
    new FilesRepository(dataSource).insert(manager, {
      id: randomUUID(),
      publicId,
      ownerId,
      filename: `${publicId}.bin`,
      sizeBytes: plain.length,
      sha256: newChunk(1).sha256,
      contentType: 'application/octet-stream',
      chunkCount: 1,
      chunkSize: plain.length,
      chunkOverhead: chunk.length - plain.length,
      wrappedDataKey: wrapDataKey(byUser ? wrapping.userKey : wrapping.master.key, publicId, dataKey),
      masterKeyId: byUser ? null : wrapping.master.id,
      wrappedByUserKey: byUser,
    }),
  );
  return { file, plain, chunk, dataKey };
}

describe(UserKeysService.name, () => {
  let db: TestDataSource;
  let dataSource: DataSource;
  let userKeys: UserKeysRepository;
  let sut: UserKeysService;
  const masterA = masterKey(randomBytes(32));

  beforeAll(async () => {
    db = await createTestDataSource(createMetadataDataSource, METADATA_SCHEMA);
    dataSource = db.dataSource;
    userKeys = new UserKeysRepository(dataSource);
    sut = new UserKeysService(userKeys);
  });

  afterAll(async () => {
    await db.drop();
  });

  const proposal = (master: MasterKey, userId: string) => ({
    userId,
    wrappedKey: newUserKey(master, userId).wrapped,
    masterKeyId: master.id,
  });

  /** The owner's key in the clear, made on first need as an upload makes it. */
  async function keyOf(ownerId: string, keyring = new MasterKeyring(masterA)): Promise<Buffer> {
    const stored = await sut.forUpload(ownerId, proposal(keyring.current, ownerId));
    if (!stored) throw new Error('no user key');
    return unwrapUserKey(keyring, ownerId, stored.wrappedKey, stored.masterKeyId);
  }

  /**
   * What anyone holding every row the database has left and the master keys could make of a
   * chunk: each master key, each user key they unwrap, each data key any of those unwraps, tried
   * on the chunk. The plaintexts that came out.
   */
  async function everythingOpens(chunk: Buffer, fileId: string, masters: MasterKey[]): Promise<Buffer[]> {
    const userRows: { user_id: string; wrapped_key: Buffer | null }[] = await dataSource.query(
      `SELECT user_id, wrapped_key FROM metadata.user_keys`,
    );
    const fileRows: { public_id: string; wrapped_data_key: Buffer | null }[] = await dataSource.query(
      `SELECT public_id, wrapped_data_key FROM metadata.files`,
    );
    const attempt = <T>(f: () => T): T[] => {
      try {
        return [f()];
      } catch {
        return [];
      }
    };
    const wrappingKeys = [
      ...masters.map((m) => m.key),
      ...userRows.flatMap((row) =>
        row.wrapped_key
          ? masters.flatMap((m) =>
              attempt(() => unwrapUserKey(new MasterKeyring(m), row.user_id, row.wrapped_key as Buffer, m.id)),
            )
          : [],
      ),
    ];
    const dataKeys = fileRows.flatMap((row) =>
      row.wrapped_data_key
        ? wrappingKeys.flatMap((k) => attempt(() => unwrapDataKey(k, row.public_id, row.wrapped_data_key as Buffer)))
        : [],
    );
    return [...wrappingKeys, ...dataKeys].flatMap((key) => attempt(() => open(key, chunk, `chunk 0 of file ${fileId}`)));
  }

  it('makes one key for a user, however many first uploads race for it', async () => {
    const userId = randomUUID();
    const answers = await Promise.all(Array.from({ length: 12 }, () => sut.forUpload(userId, proposal(masterA, userId))));
    expect(new Set(answers.map((a) => Buffer.from(a?.wrappedKey ?? []).toString('hex'))).size).toBe(1);
    expect(answers[0]).toMatchObject({ userId, masterKeyId: masterA.id });
    const rows: { n: string }[] = await dataSource.query(`SELECT count(*) AS n FROM metadata.user_keys WHERE user_id = $1`, [
      userId,
    ]);
    expect(rows[0]?.n).toBe('1');
    expect(await sut.forUpload(userId, undefined)).toBeUndefined();
  });

  it('hands out the owner key with a file, and the master key id of a file from before user keys', async () => {
    const ownerId = randomUUID();
    const { file } = await storeFile(dataSource, ownerId, { userKey: await keyOf(ownerId) });
    const legacy = (await storeFile(dataSource, ownerId, { master: masterA })).file;
    expect(await sut.ofFile(file)).toMatchObject({
      wrappedByUserKey: true,
      masterKeyId: '',
      userKey: { userId: ownerId, masterKeyId: masterA.id },
    });
    expect(await sut.ofFile(legacy)).toMatchObject({ wrappedByUserKey: false, masterKeyId: masterA.id, userKey: undefined });
  });

  it('crypto-shreds: after an erasure nothing the database holds, with the master key, opens a chunk read before', async () => {
    const ownerId = randomUUID();
    const other = randomUUID();
    const current = await storeFile(dataSource, ownerId, { userKey: await keyOf(ownerId) });
    const legacy = await storeFile(dataSource, ownerId, { master: masterA });
    const bystander = await storeFile(dataSource, other, { userKey: await keyOf(other) });
    // The check has teeth: before, it finds each plaintext.
    expect(await everythingOpens(current.chunk, current.file.publicId, [masterA])).toContainEqual(current.plain);
    expect(await everythingOpens(legacy.chunk, legacy.file.publicId, [masterA])).toContainEqual(legacy.plain);

    const erase = () => dataSource.transaction((manager) => new UserErasureRepository().eraseUser(manager, ownerId));
    expect(await erase()).toEqual({ keyDestroyed: true, liveFiles: 2, trashedFiles: 0, openUploads: 0 });

    expect(await everythingOpens(current.chunk, current.file.publicId, [masterA])).toEqual([]);
    expect(await everythingOpens(legacy.chunk, legacy.file.publicId, [masterA])).toEqual([]);
    expect(await everythingOpens(bystander.chunk, bystander.file.publicId, [masterA])).toContainEqual(bystander.plain);
    const naming = await dataSource.query(
      `SELECT 'key' FROM metadata.user_keys WHERE user_id = $1 UNION ALL SELECT 'file' FROM metadata.files WHERE owner_id = $1`,
      [ownerId],
    );
    expect(naming).toEqual([]);
    expect(await erase()).toEqual({ keyDestroyed: false, liveFiles: 0, trashedFiles: 0, openUploads: 0 });
  });
});

describe(MasterKeyRotation.name, () => {
  let db: TestDataSource;
  let dataSource: DataSource;
  let files: FilesRepository;
  let userKeys: UserKeysRepository;
  let auditChainKeys: AuditChainKeysRepository;
  const masterA = masterKey(randomBytes(32));
  const masterB = masterKey(randomBytes(32));

  beforeAll(async () => {
    db = await createTestDataSource(createMetadataDataSource, METADATA_SCHEMA);
    dataSource = db.dataSource;
    files = new FilesRepository(dataSource);
    userKeys = new UserKeysRepository(dataSource);
    auditChainKeys = new AuditChainKeysRepository(dataSource);
  });

  afterAll(async () => {
    await db.drop();
  });

  it('moves old data keys under user keys, re-wraps user keys by the new master key, and then needs only it', async () => {
    const service = new UserKeysService(userKeys);
    const ownerId = randomUUID();
    const stored = await userKeys.ensure({
      userId: ownerId,
      wrappedKey: newUserKey(masterA, ownerId).wrapped,
      masterKeyId: masterA.id,
    });
    if (stored === 'erased') throw new Error('erased');
    const current = await storeFile(dataSource, ownerId, {
      userKey: unwrapUserKey(new MasterKeyring(masterA), ownerId, stored.wrappedKey, stored.masterKeyId),
    });
    const legacy = await storeFile(dataSource, randomUUID(), { master: masterA });
    const sut = new MasterKeyRotation(new MasterKeyring(masterB, masterA), userKeys, files, auditChainKeys);

    expect(await sut.run()).toEqual({ dataKeysMoved: 1, userKeysRewrapped: 1, auditChainKeysRewrapped: false });
    expect(await sut.run()).toEqual({ dataKeysMoved: 0, userKeysRewrapped: 0, auditChainKeysRewrapped: false });

    const onlyB = new MasterKeyring(masterB);
    for (const { file, chunk, plain } of [current, legacy]) {
      const plan = await service.ofFile(await dataSource.manager.findOneByOrFail(FileEntity, { id: file.id }));
      expect(plan).toMatchObject({ wrappedByUserKey: true, userKey: { masterKeyId: masterB.id } });
      const owners = unwrapUserKey(onlyB, plan.userKey?.userId ?? '', plan.userKey?.wrappedKey ?? Buffer.alloc(0), masterB.id);
      const dataKey = unwrapDataKey(owners, file.publicId, plan.wrappedDataKey);
      expect(open(dataKey, chunk, `chunk 0 of file ${file.publicId}`).equals(plain)).toBe(true);
    }
  });

  it('stops, naming the key, at a user key that no key of its ring wrapped', async () => {
    const stranger = masterKey(randomBytes(32));
    const userId = randomUUID();
    await userKeys.ensure({ userId, wrappedKey: newUserKey(stranger, userId).wrapped, masterKeyId: stranger.id });
    const sut = new MasterKeyRotation(new MasterKeyring(masterB, masterA), userKeys, files, auditChainKeys);
    await expect(sut.run()).rejects.toThrow(
      new UnknownMasterKeyError(
        `the key of user ${userId} was wrapped under master key ${stranger.id}, this service has ${masterB.id} and ${masterA.id}`,
      ),
    );
    await dataSource.query(`DELETE FROM metadata.user_keys WHERE user_id = $1`, [userId]);
  });
});
