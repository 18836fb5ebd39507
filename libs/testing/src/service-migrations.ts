import { migrateServiceSchema, pendingSchemaChanges } from '@cloudstore/database';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from './test-database';

/**
 * The checks every service's migrations must pass, against a fresh database: they describe the
 * entities exactly (TypeORM finds nothing to change), they run once, and they revert cleanly.
 */
export function describeServiceMigrations(service: string, schema: string, createDataSource: (url: string) => DataSource): void {
  describe(`${service} migrations`, () => {
    let db: TestDatabase;
    let dataSource: DataSource;

    // Each test on a fresh database of its own, so that each stands alone and in any order.
    beforeEach(async () => {
      db = await createTestDatabase();
      dataSource = createDataSource(db.url);
      await dataSource.initialize();
    });

    afterEach(async () => {
      await dataSource.destroy();
      await db.drop();
    });

    it('describe the entities exactly: nothing left for TypeORM to change', async () => {
      expect((await migrateServiceSchema(dataSource, schema)).length).toBe(dataSource.migrations.length);
      expect(await pendingSchemaChanges(dataSource)).toEqual([]);
    });

    it('run once: a second start finds nothing pending', async () => {
      await migrateServiceSchema(dataSource, schema);
      expect(await migrateServiceSchema(dataSource, schema)).toEqual([]);
    });

    it('revert cleanly, down to an empty schema, and apply again', async () => {
      expect((await migrateServiceSchema(dataSource, schema)).length).toBe(dataSource.migrations.length);
      for (let i = 0; i < dataSource.migrations.length; i += 1) await dataSource.undoLastMigration({ transaction: 'all' });
      const tables: { table_name: string }[] = await dataSource.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'migrations'`,
        [schema],
      );
      expect(tables).toEqual([]);
      await migrateServiceSchema(dataSource, schema);
      expect(await pendingSchemaChanges(dataSource)).toEqual([]);
    });
  });
}
