import { describeMigrateCommand, describeServiceMigrations } from '@cloudstore/testing';
import { AUTH_SCHEMA, createAuthDataSource } from './auth-data-source';

describeServiceMigrations('auth', AUTH_SCHEMA, createAuthDataSource);
describeMigrateCommand('auth', AUTH_SCHEMA, createAuthDataSource);
