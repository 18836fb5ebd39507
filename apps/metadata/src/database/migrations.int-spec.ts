import { randomUUID } from 'node:crypto';
import { migrateServiceSchema } from '@cloudstore/database';
import {
  createTestDatabase,
  describeMigrateCommand,
  describeServiceMigrations,
  newChunk,
  type TestDatabase,
} from '@cloudstore/testing';
import type { DataSource } from 'typeorm';
import { createMetadataDataSource, METADATA_SCHEMA } from './metadata-data-source';
import { METADATA_MIGRATIONS } from './migrations';
import { PerOwnerFileIds1796192774215 } from './migrations/1796192774215-PerOwnerFileIds';

describeServiceMigrations('metadata', METADATA_SCHEMA, createMetadataDataSource);
describeMigrateCommand('metadata', METADATA_SCHEMA, createMetadataDataSource);

describe(PerOwnerFileIds1796192774215.name, () => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase();
  });

  afterEach(async () => {
    await db.drop();
  });

  /** A data source that knows only the migrations before this one, as the previous release did. */
  async function previousRelease(): Promise<DataSource> {
    const dataSource = createMetadataDataSource(db.url);
    dataSource.setOptions({
      migrations: METADATA_MIGRATIONS.slice(0, METADATA_MIGRATIONS.indexOf(PerOwnerFileIds1796192774215)),
    });
    await dataSource.initialize();
    await migrateServiceSchema(dataSource, METADATA_SCHEMA);
    return dataSource;
  }

  /** A file and an upload as the previous release wrote them: no public id. */
  async function insertAsPreviousRelease(dataSource: DataSource): Promise<{ fileId: string; uploadFileId: string }> {
    const [owner, fileId, uploadFileId] = [randomUUID(), randomUUID(), randomUUID()];
    await dataSource.query(
      `INSERT INTO metadata.files (id, owner_id, filename, size_bytes, sha256, chunk_count, chunk_size)
       VALUES ($1, $2, 'old.bin', 1, $3, 1, 1)`,
      [fileId, owner, newChunk(1).sha256],
    );
    await dataSource.query(`INSERT INTO metadata.uploads (id, owner_id, file_id, filename) VALUES ($1, $2, $3, 'open.bin')`, [
      randomUUID(),
      owner,
      uploadFileId,
    ]);
    return { fileId, uploadFileId };
  }

  async function publicIds(dataSource: DataSource, ids: { fileId: string; uploadFileId: string }) {
    const [file] = await dataSource.query<{ public_id: string }[]>('SELECT public_id FROM metadata.files WHERE id = $1', [
      ids.fileId,
    ]);
    const [upload] = await dataSource.query<{ public_file_id: string }[]>(
      'SELECT public_file_id FROM metadata.uploads WHERE file_id = $1',
      [ids.uploadFileId],
    );
    return { file: file?.public_id, upload: upload?.public_file_id };
  }

  it('keeps the id of every file and upload from before: the public id is the row id', async () => {
    const old = await previousRelease();
    const ids = await insertAsPreviousRelease(old);
    await old.destroy();
    const current = createMetadataDataSource(db.url);
    await current.initialize();
    try {
      expect(await migrateServiceSchema(current, METADATA_SCHEMA)).toContain(PerOwnerFileIds1796192774215.name);
      expect(await publicIds(current, ids)).toEqual({ file: ids.fileId, upload: ids.uploadFileId });
    } finally {
      await current.destroy();
    }
  });

  it('lets a replica of the previous release go on inserting during a rolling upgrade', async () => {
    const old = await previousRelease();
    const current = createMetadataDataSource(db.url);
    await current.initialize();
    try {
      await migrateServiceSchema(current, METADATA_SCHEMA);
      const ids = await insertAsPreviousRelease(old);
      expect(await publicIds(current, ids)).toEqual({ file: ids.fileId, upload: ids.uploadFileId });
    } finally {
      await Promise.all([old.destroy(), current.destroy()]);
    }
  });
});
