import { join } from 'node:path';
import { runMigrationCli } from '@cloudstore/database';
import { createMetadataDataSource, METADATA_SCHEMA } from './metadata-data-source';

runMigrationCli('metadata', {
  schema: METADATA_SCHEMA,
  createDataSource: createMetadataDataSource,
  migrationsDir: join(process.cwd(), 'apps/metadata/src/database/migrations'),
  listName: 'METADATA_MIGRATIONS',
});
