import { migrateServiceSchema } from '@cloudstore/database';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from './test-database';

/** A service's data source on a fresh database of its own, migrated; `drop` closes and removes it. */
export interface TestDataSource {
  readonly db: TestDatabase;
  readonly dataSource: DataSource;
  drop(): Promise<void>;
}

/**
 * A fresh database with a service's schema migrated, as the service brings it up at start:
 * what "medium" tests run against, one per test file.
 */
export async function createTestDataSource(
  createDataSource: (url: string) => DataSource,
  schema: string,
): Promise<TestDataSource> {
  const db = await createTestDatabase();
  const dataSource = createDataSource(db.url);
  await dataSource.initialize();
  await migrateServiceSchema(dataSource, schema);
  return {
    db,
    dataSource,
    drop: async () => {
      // A Nest application closed before may have closed it already.
      if (dataSource.isInitialized) await dataSource.destroy();
      await db.drop();
    },
  };
}
