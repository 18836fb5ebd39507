import { randomUUID } from 'node:crypto';
import { loadConfig, metadataConfigSchema } from '@cloudstore/config';
import { QuotaExceededError } from '@cloudstore/contracts';
import { migrateServiceSchema } from '@cloudstore/database';
import { createTestDatabase, type TestDatabase } from '@cloudstore/testing';
import type { DataSource } from 'typeorm';
import { createMetadataDataSource, METADATA_SCHEMA } from '../database/metadata-data-source';
import { QuotasRepository } from '../quotas/quotas.repository';
import { UploadReservationsService } from './upload-reservations.service';
import { UploadsRepository } from './uploads.repository';

/** Bytes of one chunk in these tests. */
const UNIT = 1000;

describe(UploadReservationsService.name, () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let uploads: UploadsRepository;
  let quotas: QuotasRepository;
  let sut: UploadReservationsService;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = createMetadataDataSource(db.url);
    await dataSource.initialize();
    await migrateServiceSchema(dataSource, METADATA_SCHEMA);
    // A wait bound far above how long any upload here takes, however busy the machine: an upload
    // refused in these tests was refused by the rules, not because it gave up waiting.
    const config = loadConfig(metadataConfigSchema, { DATABASE_URL: db.url, QUOTA_WAIT_SECONDS: '20' });
    uploads = new UploadsRepository(dataSource);
    quotas = new QuotasRepository(dataSource, config);
    sut = new UploadReservationsService(config, uploads, quotas, dataSource);
  });

  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  async function newUser(limitUnits: number): Promise<string> {
    const userId = randomUUID();
    await quotas.ensure(userId, 'basic');
    await quotas.set(userId, { quotaBytes: limitUnits * UNIT });
    return userId;
  }

  /** Opens uploads in this order of age (oldest first); a declared one reserves its size at once, as CreateUpload does. */
  async function openUploads(ownerId: string, declaredUnits: (number | undefined)[]): Promise<string[]> {
    const ids: string[] = [];
    for (const [i, declared] of declaredUnits.entries()) {
      const id = randomUUID();
      const reserved = declared === undefined ? 0 : declared * UNIT;
      await dataSource.transaction(async (manager) => {
        if (reserved > 0 && !(await quotas.reserve(ownerId, reserved, manager))) throw new QuotaExceededError();
        await uploads.insert(manager, {
          id,
          ownerId,
          fileId: id,
          versionOf: null,
          resumable: false,
          expiresAt: null,
          expectedSha256: null,
          publicFileId: id,
          filename: `f${i}`,
          contentType: 'application/octet-stream',
          declaredSize: declared === undefined ? -1 : reserved,
          reservedBytes: reserved,
          chunkOverhead: 0,
        });
        // Start times one second apart, whatever the clock's resolution.
        await manager.query(`UPDATE metadata.uploads SET created_at = now() + make_interval(secs => $2) WHERE id = $1`, [id, i]);
      });
      ids.push(id);
    }
    return ids;
  }

  /** One more chunk received, as PrepareChunk records it. */
  function receive(ownerId: string, uploadId: string, service = sut): Promise<void> {
    return service.withRoom(
      uploadId,
      ownerId,
      (_m, upload) => upload.receivedBytes + UNIT,
      (manager, upload) => uploads.update(manager, upload.id, { receivedBytes: upload.receivedBytes + UNIT }),
    );
  }

  /** The upload becomes a file, as CommitUpload charges it. */
  function commit(ownerId: string, uploadId: string): Promise<void> {
    return sut.withRoom(
      uploadId,
      ownerId,
      (_m, upload) => upload.receivedBytes,
      async (manager, upload) => {
        await quotas.charge(ownerId, upload.reservedBytes, upload.receivedBytes, manager);
        await uploads.update(manager, upload.id, { status: 'committed', reservedBytes: 0 });
      },
    );
  }

  /** As AbortUpload releases it. */
  async function abort(ownerId: string, uploadId: string): Promise<void> {
    await dataSource.transaction(async (manager) => {
      await quotas.lock(ownerId, manager);
      const upload = await uploads.lockOpen(manager, uploadId, ownerId);
      if (!upload) return;
      await quotas.release(ownerId, upload.reservedBytes, manager);
      await uploads.update(manager, upload.id, { status: 'aborted', reservedBytes: 0 });
    });
  }

  /**
   * Receives `units` chunks and commits; `pause` holds it after some chunks until `pause.until`
   * resolves, to fix how concurrent uploads interleave.
   */
  async function uploadWhole(
    ownerId: string,
    uploadId: string,
    units: number,
    pause?: { after: number; until: () => Promise<void> },
  ): Promise<string> {
    try {
      for (let i = 0; i < units; i += 1) {
        if (i === pause?.after) await pause.until();
        await receive(ownerId, uploadId);
      }
      await commit(ownerId, uploadId);
      return 'landed';
    } catch (error) {
      await abort(ownerId, uploadId);
      return error instanceof QuotaExceededError ? error.code : String(error);
    }
  }

  /** The quota row, and its reservation against the sum of the open uploads' (they must agree). */
  async function state(ownerId: string) {
    const [row] = await dataSource.query<{ used: string; reserved: string; held: string; open: string }[]>(
      `SELECT q.used_bytes AS used, q.reserved_bytes AS reserved,
              (SELECT COALESCE(SUM(reserved_bytes), 0) FROM metadata.uploads WHERE owner_id = $1 AND status = 'open') AS held,
              (SELECT count(*) FROM metadata.uploads WHERE owner_id = $1 AND status = 'open') AS open
       FROM metadata.user_quotas q WHERE q.user_id = $1`,
      [ownerId],
    );
    return { used: Number(row?.used), reserved: Number(row?.reserved), held: Number(row?.held), open: Number(row?.open) };
  }

  async function reservedOf(uploadId: string): Promise<number> {
    const [row] = await dataSource.query<{ reserved_bytes: string }[]>(
      `SELECT reserved_bytes FROM metadata.uploads WHERE id = $1`,
      [uploadId],
    );
    return Number(row?.reserved_bytes);
  }

  it('four concurrent uploads of 5 chunks into a quota of 16: the three oldest land, the youngest is refused, exactly charged', async () => {
    const owner = await newUser(16);
    const ids = await openUploads(owner, [undefined, undefined, undefined, undefined]);
    // Started from the youngest; each holds 4 chunks (the quota is full) before any goes on, so the
    // youngest cannot commit first: it must give up room to the older ones, whatever the scheduling.
    let arrived = 0;
    let release: () => void = () => undefined;
    const everyoneHoldsFour = new Promise<void>((resolve) => (release = resolve));
    const until = () => {
      arrived += 1;
      if (arrived === ids.length) release();
      return everyoneHoldsFour;
    };
    const outcomes = await Promise.all([...ids].reverse().map((id) => uploadWhole(owner, id, 5, { after: 4, until })));
    expect(outcomes.reverse()).toEqual(['landed', 'landed', 'landed', 'QUOTA_EXCEEDED']);
    expect(await state(owner)).toEqual({ used: 15 * UNIT, reserved: 0, held: 0, open: 0 });
  });

  it('two concurrent uploads that fit together both land', async () => {
    const owner = await newUser(10);
    const ids = await openUploads(owner, [undefined, undefined]);
    expect(await Promise.all(ids.map((id) => uploadWhole(owner, id, 5)))).toEqual(['landed', 'landed']);
    expect(await state(owner)).toEqual({ used: 10 * UNIT, reserved: 0, held: 0, open: 0 });
  });

  it('an older upload takes room from a younger one, which waits and lands when the older one gives up', async () => {
    const owner = await newUser(10);
    const [older, younger] = (await openUploads(owner, [undefined, undefined])) as [string, string];
    for (let i = 0; i < 8; i += 1) await receive(owner, younger);
    for (let i = 0; i < 3; i += 1) await receive(owner, older);
    expect([await reservedOf(older), await reservedOf(younger)]).toEqual([3 * UNIT, 7 * UNIT]);
    expect(await state(owner)).toMatchObject({ reserved: 10 * UNIT, held: 10 * UNIT });

    const committing = commit(owner, younger);
    await abort(owner, older);
    await committing;
    expect(await state(owner)).toEqual({ used: 8 * UNIT, reserved: 0, held: 0, open: 0 });
  });

  it('a wounded upload is refused once the older one commits and it cannot fit alone any more', async () => {
    const owner = await newUser(10);
    const [older, younger] = (await openUploads(owner, [undefined, undefined])) as [string, string];
    for (let i = 0; i < 8; i += 1) await receive(owner, younger);
    for (let i = 0; i < 3; i += 1) await receive(owner, older);
    const committing = commit(owner, younger);
    await commit(owner, older);
    await expect(committing).rejects.toBeInstanceOf(QuotaExceededError);
    await abort(owner, younger);
    expect(await state(owner)).toEqual({ used: 3 * UNIT, reserved: 0, held: 0, open: 0 });
  });

  it('refuses at once an upload that cannot fit alone given what is committed', async () => {
    const owner = await newUser(3);
    const [upload] = (await openUploads(owner, [undefined])) as [string];
    for (let i = 0; i < 3; i += 1) await receive(owner, upload);
    const started = Date.now();
    // With a wait bound of 20 s, a refusal well within it did not wait.
    await expect(receive(owner, upload)).rejects.toBeInstanceOf(QuotaExceededError);
    expect(Date.now() - started).toBeLessThan(10_000);
    await abort(owner, upload);
    expect(await state(owner)).toEqual({ used: 0, reserved: 0, held: 0, open: 0 });
  });

  it('keeps declared reservations firm: an older upload waits for them, at most QUOTA_WAIT_SECONDS, then is refused', async () => {
    const owner = await newUser(10);
    const [older, declared] = (await openUploads(owner, [undefined, 5])) as [string, string];
    for (let i = 0; i < 5; i += 1) await receive(owner, older);
    const started = Date.now();
    const hasty = new UploadReservationsService(
      loadConfig(metadataConfigSchema, { DATABASE_URL: db.url, QUOTA_WAIT_SECONDS: '2' }),
      uploads,
      quotas,
      dataSource,
    );
    await expect(receive(owner, older, hasty)).rejects.toBeInstanceOf(QuotaExceededError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(await reservedOf(declared)).toBe(5 * UNIT);
    expect(await state(owner)).toMatchObject({ reserved: 10 * UNIT, held: 10 * UNIT });
  });
});
