import { randomUUID } from 'node:crypto';
import { createTestDataSource, newChunk, type TestDataSource } from '@cloudstore/testing';
import type { DataSource } from 'typeorm';
import { createMetadataDataSource, METADATA_SCHEMA } from '../database/metadata-data-source';
import { FilesRepository } from './files.repository';
import type { ListPosition } from './list-cursor';

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

  /** A committed file; its public id differs from its row id, so every lookup shows which one it uses. */
  async function newFile(ownerId: string, filename = `f-${randomUUID()}.bin`, sizeBytes = 100, publicId: string = randomUUID()) {
    return dataSource.transaction((manager) =>
      sut.insert(manager, {
        id: randomUUID(),
        publicId,
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
        wrappedByUserKey: false,
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

  it('finds a live file by the id its owner knows, only for its owner', async () => {
    const owner = randomUUID();
    const file = await newFile(owner);
    expect(await sut.findActive(owner, file.publicId)).toMatchObject({ id: file.id, ownerId: owner, sizeBytes: 100 });
    expect(await sut.findActive(owner, file.id)).toBeNull();
    expect(await sut.findActive(randomUUID(), file.publicId)).toBeNull();
    expect((await sut.findOwned(owner, file.publicId)) !== null).toBe(true);
    expect((await sut.findOwned(owner, randomUUID())) !== null).toBe(false);
  });

  it('keeps file ids per owner: another owner may use the same id, and it is not taken for them', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const alices = await newFile(alice, 'alice.bin', 100);
    expect((await sut.findOwned(bob, alices.publicId)) !== null).toBe(false);
    const bobs = await newFile(bob, 'bob.bin', 200, alices.publicId);
    expect(await sut.findActive(alice, alices.publicId)).toMatchObject({ id: alices.id, filename: 'alice.bin' });
    expect(await sut.findActive(bob, alices.publicId)).toMatchObject({ id: bobs.id, filename: 'bob.bin' });
    await expect(newFile(bob, 'again.bin', 1, alices.publicId)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'file_id is already in use',
    });
    expect(await dataSource.transaction((m) => sut.softDelete(m, bob, alices.publicId))).toMatchObject({ id: bobs.id });
    expect(await sut.findActive(alice, alices.publicId)).toMatchObject({ id: alices.id });
  });

  it('lists newest first, pages, and filters by a case-insensitive substring with % and _ taken literally', async () => {
    const owner = randomUUID();
    const a = await newFile(owner, 'Report_2026.pdf');
    const b = await newFile(owner, 'report-2026.pdf');
    const c = await newFile(owner, '100%.txt');
    await newFile(randomUUID(), 'report_other_owner.pdf');
    const page = (limit: number, offset: number, filter = '') => sut.list(owner, { limit, offset, filter });
    const { files: all, total } = await page(10, 0);
    expect(all.map((f) => f.publicId)).toEqual([c.publicId, b.publicId, a.publicId]);
    expect(total).toBeUndefined();
    expect((await page(1, 1)).files.map((f) => f.publicId)).toEqual([b.publicId]);
    expect(await page(10, 0, 'REPORT_')).toEqual({ files: [expect.objectContaining({ publicId: a.publicId })], total: 1 });
    expect(await page(10, 0, '%')).toEqual({ files: [expect.objectContaining({ publicId: c.publicId })], total: 1 });
    // A filtered page past the matches still counts them.
    expect(await page(10, 5, 'report')).toEqual({ files: [], total: 2 });
  });

  it('pages after a position: the files that follow it in order, ties in time broken by id, whatever came before meanwhile', async () => {
    const owner = randomUUID();
    for (let i = 0; i < 7; i += 1) await newFile(owner, `same-time-${i}.txt`);
    await dataSource.query(`UPDATE metadata.files SET uploaded_at = '2026-01-01T00:00:00.123456Z' WHERE owner_id = $1`, [owner]);
    const everything = (await sut.list(owner, { limit: 100, offset: 0, filter: '' })).files.map((f) => f.publicId);
    const walked: string[] = [];
    let after: ListPosition | undefined;
    for (;;) {
      const { files } = await sut.list(owner, { limit: 3, offset: 0, filter: '', after });
      walked.push(...files.map((f) => f.publicId));
      if (files.length < 3) break;
      after = files.at(-1)?.position;
      // A file arriving meanwhile is newer: it shifts offsets, never the pages that follow a position.
      await newFile(owner, 'newcomer.txt');
    }
    expect(walked).toEqual(everything);
    const filtered = await sut.list(owner, { limit: 2, offset: 0, filter: 'same-time', after: after });
    expect(filtered).toEqual({ files: [expect.objectContaining({ publicId: everything[6] })], total: 7 });
  });

  it('moves a file to the trash once; it leaves the listing and is restored within its retention', async () => {
    const owner = randomUUID();
    const file = await newFile(owner, 'trashed.bin', 700);
    expect(await dataSource.transaction((m) => sut.softDelete(m, randomUUID(), file.publicId))).toBeUndefined();
    expect(await dataSource.transaction((m) => sut.softDelete(m, owner, file.publicId))).toMatchObject({
      id: file.id,
      publicId: file.publicId,
      sizeBytes: 700,
    });
    expect(await dataSource.transaction((m) => sut.softDelete(m, owner, file.publicId))).toBeUndefined();
    expect(await sut.findActive(owner, file.publicId)).toBeNull();
    expect((await sut.list(owner, { limit: 10, offset: 0, filter: '' })).files).toEqual([]);
    expect(await sut.listTrash(owner, 10, 0)).toEqual([[expect.objectContaining({ id: file.id })], 1]);

    await deletedSecondsAgo(file.id, 50);
    expect(await dataSource.transaction((m) => sut.restore(m, owner, file.publicId, 30))).toBeUndefined();
    expect(await dataSource.transaction((m) => sut.restore(m, owner, file.publicId, 60))).toMatchObject({
      file: { id: file.id, deletedAt: null },
      totalBytes: 700,
    });
    expect(await sut.findActive(owner, file.publicId)).not.toBeNull();
  });

  it("purges from the trash: the owner's file at once, anyone's after the retention, never a live one", async () => {
    const owner = randomUUID();
    const live = await newFile(owner);
    const mine = await newFile(owner);
    const expired = await newFile(randomUUID());
    const fresh = await newFile(randomUUID());
    for (const f of [mine, expired, fresh]) await dataSource.transaction((m) => sut.softDelete(m, f.ownerId, f.publicId));
    await deletedSecondsAgo(expired.id, 3600);
    const purge = (which: Parameters<FilesRepository['deleteFromTrash']>[1]) =>
      dataSource.transaction((m) => sut.deleteFromTrash(m, which));

    expect(await purge({ ownerId: owner, fileId: live.publicId })).toBeUndefined();
    expect(await purge({ ownerId: randomUUID(), fileId: mine.publicId })).toBeUndefined();
    expect(await purge({ ownerId: owner, fileId: mine.id })).toBeUndefined();
    expect(await purge({ ownerId: owner, fileId: mine.publicId })).toMatchObject({
      id: mine.id,
      publicId: mine.publicId,
      ownerId: owner,
    });
    const due = await sut.expiredInTrash(600, 1000);
    expect(due).toContain(expired.id);
    expect(due).not.toContain(fresh.id);
    expect(await purge({ id: fresh.id, retentionSeconds: 600 })).toBeUndefined();
    expect(await purge({ id: expired.id, retentionSeconds: 600 })).toMatchObject({ id: expired.id });
    expect((await sut.findOwned(expired.ownerId, expired.publicId)) !== null).toBe(false);
  });

  it('lets one of a concurrent restore and purge of one file win', async () => {
    const owner = randomUUID();
    const file = await newFile(owner);
    await dataSource.transaction((m) => sut.softDelete(m, owner, file.publicId));
    const [restored, purged] = await Promise.all([
      dataSource.transaction((m) => sut.restore(m, owner, file.publicId, 3600)),
      dataSource.transaction((m) => sut.deleteFromTrash(m, { ownerId: owner, fileId: file.publicId })),
    ]);
    expect([restored, purged].filter((r) => r !== undefined)).toHaveLength(1);
    const alive = await sut.findActive(owner, file.publicId);
    expect([alive?.id, (await sut.findOwned(owner, file.publicId)) !== null]).toEqual(
      restored ? [file.id, true] : [undefined, false],
    );
  });
});
