import { join } from 'node:path';
import { runMigrationCli } from '@cloudstore/database';
import { AUTH_SCHEMA, createAuthDataSource } from './auth-data-source';

runMigrationCli('auth', {
  schema: AUTH_SCHEMA,
  createDataSource: createAuthDataSource,
  migrationsDir: join(process.cwd(), 'apps/auth/src/database/migrations'),
  listName: 'AUTH_MIGRATIONS',
});
