import { runMigrateCommand } from '@cloudstore/database';
import { AUTH_SCHEMA, createAuthDataSource } from './database/auth-data-source';

runMigrateCommand('auth', AUTH_SCHEMA, createAuthDataSource);
