import { randomUUID } from 'node:crypto';
import { type MetadataConfig } from '@cloudstore/config';
import { type filesApi, QuotaExceededError } from '@cloudstore/contracts';
import { createLogger } from '@cloudstore/observability';
import { newChunk, newOrigin, newStorageNode } from '@cloudstore/testing';
import type { DataSource } from 'typeorm';
import { AuditAppends } from '../audit/audit-appends';
import { AuditLogRepository } from '../audit/audit-log.repository';
import { ChunksRepository } from '../files/chunks.repository';
import { FilesRepository } from '../files/files.repository';
import { GC_JOBS, JobQueues } from '../jobs/job-queues';
import { NodeRegistryRepository } from '../node-registry/node-registry.repository';
import { QuotasRepository } from '../quotas/quotas.repository';
import { UploadReservationsService } from './upload-reservations.service';
import { UploadsRepository } from './uploads.repository';
import { UploadsService } from './uploads.service';
import { createMetadataTestStores, type MetadataTestStores } from '../metadata-test-stores.test-helper';
import { UserKeysRepository } from '../user-keys/user-keys.repository';
import { UserKeysService } from '../user-keys/user-keys.service';
import { FileVersionsRepository } from '../versions/file-versions.repository';
import { VersionKeeper } from '../versions/version-keeper';

/** The life of an upload against the real database and Redis: open, chunks, commit or abort. */
describe(UploadsService.name, () => {
  let stores: MetadataTestStores;
  let dataSource: DataSource;
  let config: MetadataConfig;
  let quotas: QuotasRepository;
  let files: FilesRepository;
  let queues: JobQueues;
  let sut: UploadsService;
  /** The service under another configuration, on the same stores. */
  let uploadsWith: (settings: MetadataConfig) => UploadsService;

  beforeAll(async () => {
    stores = await createMetadataTestStores({ REPLICATION_FACTOR: '2', QUOTA_WAIT_SECONDS: '1' });
    ({ dataSource, config } = stores);
    const uploads = new UploadsRepository(dataSource);
    quotas = new QuotasRepository(dataSource, config);
    files = new FilesRepository(dataSource);
    const nodes = new NodeRegistryRepository(dataSource);
    queues = new JobQueues(config);
    uploadsWith = (settings) =>
      new UploadsService(
        settings,
        uploads,
        files,
        new ChunksRepository(dataSource),
        quotas,
        nodes,
        new AuditLogRepository(dataSource, new AuditAppends()),
        queues,
        new UploadReservationsService(config, uploads, quotas, dataSource),
        new UserKeysService(new UserKeysRepository(dataSource)),
        new VersionKeeper(settings, new FileVersionsRepository(dataSource), new ChunksRepository(dataSource), quotas),
        createLogger('metadata-test', 'silent'),
        dataSource,
      );
    sut = uploadsWith(config);
    for (let i = 0; i < 3; i += 1) {
      const node = newStorageNode();
      await nodes.register(node.nodeId, node.address, node.usage, node.diskId);
    }
  });

  afterAll(async () => {
    await queues.onApplicationShutdown();
    await stores.drop();
  });

  async function newOwner(quotaBytes: number) {
    const owner = { userId: randomUUID(), role: 'basic', username: 'someone' };
    await quotas.ensure(owner.userId, owner.role);
    await quotas.set(owner.userId, { quotaBytes });
    return owner;
  }

  function open(
    owner: { userId: string; role: string; username: string },
    declaredSize = -1,
    filename = 'report.pdf',
    more: Partial<filesApi.CreateUploadRequest> = {},
  ) {
    return sut.create({
      owner,
      filename,
      declaredSize,
      contentType: '',
      fileId: '',
      newFileId: '',
      newUserKey: undefined,
      origin: newOrigin(),
      chunkOverhead: 0,
      firstChunk: undefined,
      resumable: false,
      expectedSha256: '',
      ...more,
    });
  }

  /** The chunks of each upload its nodes stored: sent again with every later call, which records them once. */
  const storedOf = new Map<string, filesApi.StoredChunk[]>();
  const stored = (uploadId: string) => storedOf.get(uploadId) ?? [];

  /** The chunk written to the placement's first candidates, as the gateway does; told with the next call. */
  function written(uploadId: string, prepared: filesApi.PrepareChunkResponse): void {
    const nodeIds = prepared.candidates.slice(0, prepared.replicationFactor).map((c) => c.nodeId);
    storedOf.set(uploadId, [...stored(uploadId), { chunkId: prepared.chunkId, nodeIds }]);
  }

  /** Stores `sizes` as chunks, as the gateway does: prepare (telling of the chunks stored so far), write to the first candidates. */
  async function storeChunks(ownerId: string, uploadId: string, sizes: number[]) {
    const chunks = [];
    for (const [index, size] of sizes.entries()) {
      const chunk = newChunk(size);
      const prepared = await sut.prepareChunk({ uploadId, ownerId, index, size, sha256: chunk.sha256, stored: stored(uploadId) });
      written(uploadId, prepared);
      chunks.push({ ...chunk, prepared });
    }
    return chunks;
  }

  async function auditOf(userId: string) {
    return dataSource.query<{ operation: string; status: string; error_code: string | null }[]>(
      `SELECT operation, status, error_code FROM metadata.audit_log WHERE user_id = $1 ORDER BY occurred_at`,
      [userId],
    );
  }

  it('commits a file: visible, charged exactly, audited, its chunks on the nodes the placement chose', async () => {
    const owner = await newOwner(10_000);
    const { uploadId, fileId, filename } = await open(owner, -1, '../etc/Résumé.pdf');
    expect(filename).toBe('Résumé.pdf');
    const chunks = await storeChunks(owner.userId, uploadId, [1000, 500]);
    expect(chunks.map((c) => [c.prepared.candidates.length, c.prepared.replicationFactor, c.prepared.writeQuorum])).toEqual([
      [3, 2, 2],
      [3, 2, 2],
    ]);
    const record = await sut.commit({
      uploadId,
      ownerId: owner.userId,
      size: 1500,
      sha256: newChunk(1).sha256,
      chunkCount: 2,
      origin: newOrigin(),
      wrappedDataKey: new Uint8Array(),
      masterKeyId: '',
      wrappedByUserKey: false,
      stored: stored(uploadId),
    });
    expect(record).toMatchObject({ fileId, filename: 'Résumé.pdf', size: 1500, storageNodes: expect.any(Array) });
    const written = chunks.flatMap((c) => c.prepared.candidates.slice(0, 2).map((n) => n.nodeId));
    expect([...record.storageNodes].sort()).toEqual([...new Set(written)].sort());
    expect(await files.findActive(owner.userId, fileId)).toMatchObject({ chunkCount: 2, chunkSize: 1000 });
    expect(await quotas.find(owner.userId)).toMatchObject({ usedBytes: 1500, reservedBytes: 0 });
    expect(await auditOf(owner.userId)).toEqual([{ operation: 'file.upload', status: 'success', error_code: null }]);
    // A commit is once: the upload is not open any more.
    await expect(
      sut.commit({
        uploadId,
        ownerId: owner.userId,
        size: 1500,
        sha256: newChunk(1).sha256,
        chunkCount: 2,
        origin: undefined,
        wrappedDataKey: new Uint8Array(),
        masterKeyId: '',
        wrappedByUserKey: false,
        stored: stored(uploadId),
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('fails a commit whose audit row cannot be written: no file, nothing charged, the upload still open (never a silent gap)', async () => {
    const owner = await newOwner(10_000);
    const { uploadId, fileId } = await open(owner);
    await storeChunks(owner.userId, uploadId, [1000]);
    const trigger = `audit_refuses_${owner.userId.replace(/-/g, '')}`;
    await dataSource.query(`CREATE FUNCTION metadata.${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.user_id = '${owner.userId}' THEN RAISE EXCEPTION 'audit log unavailable'; END IF; RETURN NEW; END $$`);
    await dataSource.query(
      `CREATE TRIGGER ${trigger} BEFORE INSERT ON metadata.audit_log FOR EACH ROW EXECUTE FUNCTION metadata.${trigger}()`,
    );
    const commit = () =>
      sut.commit({
        uploadId,
        ownerId: owner.userId,
        size: 1000,
        sha256: newChunk(1).sha256,
        chunkCount: 1,
        origin: newOrigin(),
        wrappedDataKey: new Uint8Array(),
        masterKeyId: '',
        wrappedByUserKey: false,
        stored: stored(uploadId),
      });
    try {
      await expect(commit()).rejects.toThrow('audit log unavailable');
      expect(await files.findActive(owner.userId, fileId)).toBeNull();
      expect(await quotas.find(owner.userId)).toMatchObject({ usedBytes: 0 });
    } finally {
      await dataSource.query(`DROP TRIGGER ${trigger} ON metadata.audit_log`);
      await dataSource.query(`DROP FUNCTION metadata.${trigger}()`);
    }
    await expect(commit()).resolves.toMatchObject({ fileId, size: 1000 });
    expect(await auditOf(owner.userId)).toEqual([{ operation: 'file.upload', status: 'success', error_code: null }]);
  });

  it('refuses a commit whose chunks do not add up, keeping the upload open', async () => {
    const owner = await newOwner(10_000);
    const { uploadId } = await open(owner);
    await storeChunks(owner.userId, uploadId, [1000]);
    const commit = (size: number, chunkCount: number) =>
      sut.commit({
        uploadId,
        ownerId: owner.userId,
        size,
        sha256: newChunk(1).sha256,
        chunkCount,
        origin: undefined,
        wrappedDataKey: new Uint8Array(),
        masterKeyId: '',
        wrappedByUserKey: false,
        stored: stored(uploadId),
      });
    await expect(commit(1000, 2)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(commit(999, 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(commit(1000, 1)).resolves.toMatchObject({ size: 1000 });
  });

  it('aborts: the reservation comes back, the chunks are queued for collection once, and a second abort changes nothing', async () => {
    const owner = await newOwner(10_000);
    const { uploadId } = await open(owner, 3000);
    await storeChunks(owner.userId, uploadId, [1000]);
    expect(await quotas.find(owner.userId)).toMatchObject({ reservedBytes: 3000 });
    const abort = () =>
      sut.abort({ uploadId, ownerId: owner.userId, errorCode: 'CANCELLED', reason: 'client went away', origin: undefined });
    await abort();
    await abort();
    expect(await quotas.find(owner.userId)).toMatchObject({ usedBytes: 0, reservedBytes: 0 });
    const job = await queues.garbageCollection.getJob(`${GC_JOBS.collectUpload}-${uploadId}`);
    expect(job?.data).toEqual({ uploadId });
    expect(await auditOf(owner.userId)).toEqual([{ operation: 'file.upload', status: 'failure', error_code: 'CANCELLED' }]);
  });

  it('refuses a declared size that does not fit at once, audited, holding nothing', async () => {
    const owner = await newOwner(1000);
    await expect(open(owner, 1001)).rejects.toBeInstanceOf(QuotaExceededError);
    expect(await quotas.find(owner.userId)).toMatchObject({ reservedBytes: 0 });
    expect(await auditOf(owner.userId)).toEqual([{ operation: 'file.upload', status: 'failure', error_code: 'QUOTA_EXCEEDED' }]);
  });

  it('refuses more bytes than declared before recording the chunk', async () => {
    const owner = await newOwner(10_000);
    const { uploadId } = await open(owner, 1000);
    await storeChunks(owner.userId, uploadId, [800]);
    await expect(
      sut.prepareChunk({ uploadId, ownerId: owner.userId, index: 1, size: 300, sha256: newChunk(1).sha256, stored: [] }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const [row] = await dataSource.query<{ n: string }[]>(`SELECT count(*) AS n FROM metadata.chunks WHERE upload_id = $1`, [
      uploadId,
    ]);
    expect(row?.n).toBe('1');
  });

  it('lets exactly one of two declared uploads that fit only alone open, when they arrive at once', async () => {
    const owner = await newOwner(1000);
    const outcomes = await Promise.allSettled([open(owner, 600), open(owner, 600)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({ reason: expect.any(QuotaExceededError) });
    expect(await quotas.find(owner.userId)).toMatchObject({ reservedBytes: 600 });
  });

  it('opens a one-chunk file with its chunk and commits it with the nodes that stored it: two calls', async () => {
    const owner = await newOwner(10_000);
    const newFileId = randomUUID();
    const chunk = newChunk(700);
    const opened = await open(owner, -1, 'small.txt', { newFileId, firstChunk: { size: 700, sha256: chunk.sha256 } });
    expect(opened).toMatchObject({ fileId: newFileId, firstChunk: { replicationFactor: 2, writeQuorum: 2 } });
    written(opened.uploadId, opened.firstChunk as filesApi.PrepareChunkResponse);
    const record = await sut.commit({
      uploadId: opened.uploadId,
      ownerId: owner.userId,
      size: 700,
      sha256: chunk.sha256,
      chunkCount: 1,
      origin: undefined,
      wrappedDataKey: new Uint8Array(),
      masterKeyId: '',
      wrappedByUserKey: false,
      stored: stored(opened.uploadId),
    });
    expect(record).toMatchObject({ fileId: newFileId, size: 700, chunkCount: 1 });
    expect(record.storageNodes).toHaveLength(2);
    expect(await quotas.find(owner.userId)).toMatchObject({ usedBytes: 700, reservedBytes: 0 });
  });

  it('aborts an upload whose first chunk cannot be prepared, audited, holding nothing', async () => {
    const owner = await newOwner(500);
    await expect(
      open(owner, -1, 'big.bin', { newFileId: randomUUID(), firstChunk: { size: 501, sha256: newChunk(1).sha256 } }),
    ).rejects.toBeInstanceOf(QuotaExceededError);
    expect(await quotas.find(owner.userId)).toMatchObject({ usedBytes: 0, reservedBytes: 0 });
    const [row] = await dataSource.query<{ status: string }[]>(`SELECT status FROM metadata.uploads WHERE owner_id = $1`, [
      owner.userId,
    ]);
    expect(row?.status).toBe('aborted');
    expect(await auditOf(owner.userId)).toEqual([{ operation: 'file.upload', status: 'failure', error_code: 'QUOTA_EXCEEDED' }]);
  });

  it("refuses to record a chunk stored on a node not planned for it, or another upload's chunk, recording nothing", async () => {
    const owner = await newOwner(10_000);
    const { uploadId } = await open(owner);
    const other = await open(owner);
    const [first] = await storeChunks(owner.userId, uploadId, [100]);
    const [theirs] = await storeChunks(owner.userId, other.uploadId, [100]);
    const prepare = (storedChunks: filesApi.StoredChunk[]) =>
      sut.prepareChunk({
        uploadId,
        ownerId: owner.userId,
        index: 1,
        size: 100,
        sha256: newChunk(1).sha256,
        stored: storedChunks,
      });
    await expect(prepare([{ chunkId: first?.prepared.chunkId ?? '', nodeIds: ['node-elsewhere'] }])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      prepare([{ chunkId: theirs?.prepared.chunkId ?? '', nodeIds: stored(other.uploadId)[0]?.nodeIds ?? [] }]),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const [row] = await dataSource.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM metadata.chunk_replicas r JOIN metadata.chunks c ON c.id = r.chunk_id WHERE c.upload_id IN ($1, $2)`,
      [uploadId, other.uploadId],
    );
    expect(row?.n).toBe('0');
  });

  describe('chosen file ids: each owner has their own', () => {
    function openAs(owner: { userId: string; role: string; username: string }, fileId: string, filename = 'chosen.bin') {
      return open(owner, -1, filename, { fileId, origin: undefined });
    }

    async function commitOf(ownerId: string, uploadId: string, size: number) {
      await storeChunks(ownerId, uploadId, [size]);
      return sut.commit({
        uploadId,
        ownerId,
        size,
        sha256: newChunk(1).sha256,
        chunkCount: 1,
        origin: undefined,
        wrappedDataKey: new Uint8Array(),
        masterKeyId: '',
        wrappedByUserKey: false,
        stored: stored(uploadId),
      });
    }

    it("refuses an id the owner uses for an open upload or a file in the trash, makes a live file's new version; another owner's use never shows", async () => {
      const [alice, bob] = [await newOwner(10_000), await newOwner(10_000)];
      const fileId = randomUUID();
      const alices = await openAs(alice, fileId, 'alice.bin');
      expect(alices.fileId).toBe(fileId);
      await expect(openAs(alice, fileId)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: 'file_id is already in use',
      });
      // Bob is not told that Alice uses it: his upload of the same id opens and commits.
      const bobs = await openAs(bob, fileId, 'bob.bin');
      expect(bobs.fileId).toBe(fileId);
      expect(await commitOf(alice.userId, alices.uploadId, 100)).toMatchObject({ fileId, filename: 'alice.bin', size: 100 });
      expect(await commitOf(bob.userId, bobs.uploadId, 200)).toMatchObject({ fileId, filename: 'bob.bin', size: 200 });
      expect(await files.findActive(alice.userId, fileId)).toMatchObject({ filename: 'alice.bin', sizeBytes: 100 });
      expect(await files.findActive(bob.userId, fileId)).toMatchObject({ filename: 'bob.bin', sizeBytes: 200 });

      const next = await openAs(alice, fileId, 'alice-2.bin');
      expect(await commitOf(alice.userId, next.uploadId, 150)).toMatchObject({
        fileId,
        filename: 'alice-2.bin',
        size: 150,
        version: 2,
      });
      await dataSource.transaction((m) => files.softDelete(m, alice.userId, fileId));
      await expect(openAs(alice, fileId)).rejects.toMatchObject({ message: 'file_id is already in use' });
      await expect(openAs(await newOwner(10_000), fileId)).resolves.toMatchObject({ fileId });
    });

    it('keeps VERSIONS_KEPT earlier versions of a file, charged to the quota, and cuts the oldest loose', async () => {
      const owner = await newOwner(100_000);
      const fileId = randomUUID();
      const sizes = [100, 200, 300, 400, 500, 600, 700];
      let firstChunks: string[] = [];
      for (const size of sizes) {
        const upload = await openAs(owner, fileId, `v${size}.bin`);
        await commitOf(owner.userId, upload.uploadId, size);
        if (size === 100)
          firstChunks = (
            await dataSource.query<{ id: string }[]>(`SELECT id FROM metadata.chunks WHERE upload_id = $1`, [upload.uploadId])
          ).map((r) => r.id);
      }
      const current = await files.findActive(owner.userId, fileId);
      expect(current).toMatchObject({ version: 7, sizeBytes: 700, filename: 'v700.bin' });
      const versions = await dataSource.query<{ version: number; size_bytes: string }[]>(
        `SELECT version, size_bytes FROM metadata.files WHERE version_of = $1 ORDER BY version`,
        [current?.id],
      );
      expect(config.VERSIONS_KEPT).toBe(5);
      expect(versions.map((v) => [v.version, Number(v.size_bytes)])).toEqual([
        [2, 200],
        [3, 300],
        [4, 400],
        [5, 500],
        [6, 600],
      ]);
      expect(await quotas.find(owner.userId)).toMatchObject({ usedBytes: 2700 });
      expect(await quotas.fileCount(owner.userId)).toBe(1);
      // Each content keeps its own chunk; the dropped first version's is an orphan, for collection.
      expect(firstChunks.length).toBe(1);
      const dropped = await dataSource.query<{ file_id: string | null; upload_id: string | null }[]>(
        `SELECT file_id, upload_id FROM metadata.chunks WHERE id = ANY($1)`,
        [firstChunks],
      );
      expect(dropped).toEqual([{ file_id: null, upload_id: null }]);
    });

    it('keeps no earlier version with VERSIONS_KEPT 0: the content before is dropped and refunded', async () => {
      const usual = sut;
      sut = uploadsWith({ ...config, VERSIONS_KEPT: 0 });
      try {
        const owner = await newOwner(100_000);
        const fileId = randomUUID();
        for (const size of [100, 200]) await commitOf(owner.userId, (await openAs(owner, fileId, `v${size}.bin`)).uploadId, size);
        expect(await files.findActive(owner.userId, fileId)).toMatchObject({ version: 2, sizeBytes: 200 });
        const versions = await dataSource.query(`SELECT 1 FROM metadata.files WHERE owner_id = $1 AND version_of IS NOT NULL`, [
          owner.userId,
        ]);
        expect(versions).toEqual([]);
        expect(await quotas.find(owner.userId)).toMatchObject({ usedBytes: 200 });
      } finally {
        sut = usual;
      }
    });

    it('frees the id of an aborted upload for a retry', async () => {
      const owner = await newOwner(10_000);
      const fileId = randomUUID();
      const first = await openAs(owner, fileId);
      await sut.abort({
        uploadId: first.uploadId,
        ownerId: owner.userId,
        errorCode: 'STORAGE_UNAVAILABLE',
        reason: '',
        origin: undefined,
      });
      const retry = await openAs(owner, fileId);
      expect(await commitOf(owner.userId, retry.uploadId, 50)).toMatchObject({ fileId, size: 50 });
    });

    it('lets exactly one of five uploads naming one new id at once open', async () => {
      const owner = await newOwner(10_000);
      const fileId = randomUUID();
      const outcomes = await Promise.all(
        Array.from({ length: 5 }, () =>
          openAs(owner, fileId).then(
            () => 'open',
            (e: { message: string }) => e.message,
          ),
        ),
      );
      expect(outcomes.sort()).toEqual([
        'file_id is already in use',
        'file_id is already in use',
        'file_id is already in use',
        'file_id is already in use',
        'open',
      ]);
    });
  });
});
