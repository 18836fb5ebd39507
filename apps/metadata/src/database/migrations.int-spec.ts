import { randomUUID } from 'node:crypto';
import { migrateServiceSchema } from '@cloudstore/database';
import { createTestDatabase, describeServiceMigrations, newChunk } from '@cloudstore/testing';
import { createMetadataDataSource, METADATA_SCHEMA } from './metadata-data-source';
import { PerOwnerFileIds1796192774215 } from './migrations/1796192774215-PerOwnerFileIds';

describeServiceMigrations('metadata', METADATA_SCHEMA, createMetadataDataSource);

describe(PerOwnerFileIds1796192774215.name, () => {
  it('keeps the id of every file and upload from before: the public id is the row id', async () => {
    const db = await createTestDatabase();
    const dataSource = createMetadataDataSource(db.url);
    await dataSource.initialize();
    try {
      await migrateServiceSchema(dataSource, METADATA_SCHEMA);
      await dataSource.undoLastMigration({ transaction: 'all' });
      const [owner, fileId, uploadId] = [randomUUID(), randomUUID(), randomUUID()];
      await dataSource.query(
        `INSERT INTO metadata.files (id, owner_id, filename, size_bytes, sha256, chunk_count, chunk_size)
         VALUES ($1, $2, 'old.bin', 1, $3, 1, 1)`,
        [fileId, owner, newChunk(1).sha256],
      );
      await dataSource.query(`INSERT INTO metadata.uploads (id, owner_id, file_id, filename) VALUES ($1, $2, $3, 'open.bin')`, [
        uploadId,
        owner,
        randomUUID(),
      ]);
      expect(await migrateServiceSchema(dataSource, METADATA_SCHEMA)).toEqual([PerOwnerFileIds1796192774215.name]);
      expect(await dataSource.query('SELECT count(*)::int AS n FROM metadata.files WHERE public_id = id')).toEqual([{ n: 1 }]);
      expect(await dataSource.query('SELECT count(*)::int AS n FROM metadata.uploads WHERE public_file_id = file_id')).toEqual([
        { n: 1 },
      ]);
    } finally {
      await dataSource.destroy();
      await db.drop();
    }
  });
});
