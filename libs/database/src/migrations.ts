import type { DataSource } from 'typeorm';

/**
 * Brings the service's schema up to date: creates it when missing and runs pending migrations,
 * holding an advisory lock so that replicas starting together migrate one at a time.
 * Returns the names of the migrations that ran.
 */
export async function migrateServiceSchema(dataSource: DataSource, schema: string): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`cloudstore:migrations:${schema}`]);
    try {
      await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      const ran = await dataSource.runMigrations({ transaction: 'all' });
      return ran.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`cloudstore:migrations:${schema}`]);
    }
  } finally {
    await runner.release();
  }
}

/**
 * SQL that TypeORM would still run to make the database match the entities; empty when the
 * migrations describe the entities exactly.
 */
export async function pendingSchemaChanges(dataSource: DataSource): Promise<string[]> {
  const sqlInMemory = await dataSource.driver.createSchemaBuilder().log();
  return sqlInMemory.upQueries.map((q) => q.query);
}
