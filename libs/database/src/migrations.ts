import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { ensureDatabaseExists, redactDatabaseUrl } from './postgres';

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
 * A service's database created when missing, connected and its schema migrated, and the names of
 * the migrations that ran. The service's start and its migration-only command both come here.
 */
export async function prepareServiceDatabase(
  url: string,
  schema: string,
  createDataSource: (url: string) => DataSource,
): Promise<{ dataSource: DataSource; migrations: string[] }> {
  await ensureDatabaseExists(url);
  const dataSource = createDataSource(url);
  await dataSource.initialize();
  try {
    return { dataSource, migrations: await migrateServiceSchema(dataSource, schema) };
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
}

/**
 * A service's database, ready to serve: created when missing, connected, its schema migrated.
 * Every service that owns data starts this way.
 */
export async function openServiceDatabase(
  url: string,
  schema: string,
  createDataSource: (url: string) => DataSource,
  logger: Pick<Logger, 'info'>,
): Promise<DataSource> {
  const { dataSource, migrations } = await prepareServiceDatabase(url, schema, createDataSource);
  logger.info({ database: redactDatabaseUrl(url), migrations }, 'database ready');
  return dataSource;
}

/**
 * SQL that TypeORM would still run to make the database match the entities; empty when the
 * migrations describe the entities exactly.
 */
export async function pendingSchemaChanges(dataSource: DataSource): Promise<string[]> {
  const sqlInMemory = await dataSource.driver.createSchemaBuilder().log();
  return sqlInMemory.upQueries.map((q) => q.query);
}
