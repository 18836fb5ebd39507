import { randomUUID } from 'node:crypto';
import { createTestDataSource, newChunk, type TestDataSource } from '@cloudstore/testing';
import type { DataSource } from 'typeorm';
import { createMetadataDataSource, METADATA_SCHEMA } from '../database/metadata-data-source';
import { FilesRepository } from './files.repository';

describe(FilesRepository.name, () => {
  let db: TestDataSource;
  let dataSource: DataSource;
  let sut: FilesRepository;

  beforeAll(async () => {
    db = await createTestDataSource(createMetadataDataSource, METADATA_SCHEMA);
    dataSource = db.dataSource;
    sut = new FilesRepository(dataSource);
  });

  afterAll(async () => {
    await db.drop();
  });

  async function newFile(ownerId: string, filename = `f-${randomUUID()}.bin`, sizeBytes = 100) {
    return dataSource.transaction((manager) =>
      sut.insert(manager, {
        id: randomUUID(),
        ownerId,
        filename,
        sizeBytes,
        sha256: newChunk(1).sha256,
        contentType: 'application/octet-stream',
        chunkCount: 1,
        chunkSize: sizeBytes,
        chunkOverhead: 0,
        wrappedDataKey: null,
        masterKeyId: null,
      }),
    );
  }

  /** Moves a file's deletion into the past, as if it had been in the trash that long. */
  async function deletedSecondsAgo(fileId: string, seconds: number): Promise<void> {
    await dataSource.query(`UPDATE metadata.files SET deleted_at = now() - make_interval(secs => $2) WHERE id = $1`, [
      fileId,
      seconds,
    ]);
  }

  it('finds a live file only for its owner', async () => {
    const owner = randomUUID();
    const file = await newFile(owner);
    expect(await sut.findActive(owner, file.id)).toMatchObject({ id: file.id, ownerId: owner, sizeBytes: 100 });
    expect(await sut.findActive(randomUUID(), file.id)).toBeNull();
    expect(await sut.idTaken(file.id)).toBe(true);
    expect(await sut.idTaken(randomUUID())).toBe(false);
  });

  it('lists newest first, pages, and filters by a case-insensitive substring with % and _ taken literally', async () => {
    const owner = randomUUID();
    const a = await newFile(owner, 'Report_2026.pdf');
    const b = await newFile(owner, 'report-2026.pdf');
    const c = await newFile(owner, '100%.txt');
    await newFile(randomUUID(), 'report_other_owner.pdf');
    const [all, total] = await sut.list(owner, 10, 0, '');
    expect(all.map((f) => f.id)).toEqual([c.id, b.id, a.id]);
    expect(total).toBeUndefined();
    expect((await sut.list(owner, 1, 1, ''))[0].map((f) => f.id)).toEqual([b.id]);
    expect(await sut.list(owner, 10, 0, 'REPORT_')).toEqual([[expect.objectContaining({ id: a.id })], 1]);
    expect(await sut.list(owner, 10, 0, '%')).toEqual([[expect.objectContaining({ id: c.id })], 1]);
  });

  it('moves a file to the trash once; it leaves the listing and is restored within its retention', async () => {
    const owner = randomUUID();
    const file = await newFile(owner, 'trashed.bin', 700);
    expect(await dataSource.transaction((m) => sut.softDelete(m, randomUUID(), file.id))).toBeUndefined();
    expect(await dataSource.transaction((m) => sut.softDelete(m, owner, file.id))).toMatchObject({
      id: file.id,
      sizeBytes: 700,
    });
    expect(await dataSource.transaction((m) => sut.softDelete(m, owner, file.id))).toBeUndefined();
    expect(await sut.findActive(owner, file.id)).toBeNull();
    expect((await sut.list(owner, 10, 0, ''))[0]).toEqual([]);
    expect(await sut.listTrash(owner, 10, 0)).toEqual([[expect.objectContaining({ id: file.id })], 1]);

    await deletedSecondsAgo(file.id, 50);
    expect(await dataSource.transaction((m) => sut.restore(m, owner, file.id, 30))).toBeUndefined();
    expect(await dataSource.transaction((m) => sut.restore(m, owner, file.id, 60))).toMatchObject({
      id: file.id,
      deletedAt: null,
    });
    expect(await sut.findActive(owner, file.id)).not.toBeNull();
  });

  it("purges from the trash: the owner's file at once, anyone's after the retention, never a live one", async () => {
    const owner = randomUUID();
    const live = await newFile(owner);
    const mine = await newFile(owner);
    const expired = await newFile(randomUUID());
    const fresh = await newFile(randomUUID());
    for (const f of [mine, expired, fresh]) await dataSource.transaction((m) => sut.softDelete(m, f.ownerId, f.id));
    await deletedSecondsAgo(expired.id, 3600);

    expect(await dataSource.transaction((m) => sut.deleteFromTrash(m, live.id, { ownerId: owner }))).toBeUndefined();
    expect(await dataSource.transaction((m) => sut.deleteFromTrash(m, mine.id, { ownerId: randomUUID() }))).toBeUndefined();
    expect(await dataSource.transaction((m) => sut.deleteFromTrash(m, mine.id, { ownerId: owner }))).toMatchObject({
      id: mine.id,
      ownerId: owner,
    });
    const due = await sut.expiredInTrash(600, 1000);
    expect(due).toContain(expired.id);
    expect(due).not.toContain(fresh.id);
    expect(await dataSource.transaction((m) => sut.deleteFromTrash(m, fresh.id, { retentionSeconds: 600 }))).toBeUndefined();
    expect(await dataSource.transaction((m) => sut.deleteFromTrash(m, expired.id, { retentionSeconds: 600 }))).toMatchObject({
      id: expired.id,
    });
    expect(await sut.idTaken(expired.id)).toBe(false);
  });

  it('lets one of a concurrent restore and purge of one file win', async () => {
    const owner = randomUUID();
    const file = await newFile(owner);
    await dataSource.transaction((m) => sut.softDelete(m, owner, file.id));
    const [restored, purged] = await Promise.all([
      dataSource.transaction((m) => sut.restore(m, owner, file.id, 3600)),
      dataSource.transaction((m) => sut.deleteFromTrash(m, file.id, { ownerId: owner })),
    ]);
    expect([restored, purged].filter((r) => r !== undefined)).toHaveLength(1);
    const alive = await sut.findActive(owner, file.id);
    expect([alive?.id, await sut.idTaken(file.id)]).toEqual(restored ? [file.id, true] : [undefined, false]);
  });
});
