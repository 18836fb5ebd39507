import { randomBytes } from 'node:crypto';
import { commonVars, loadConfig } from '@cloudstore/config';
import { dropDatabase, ensureDatabaseExists } from '@cloudstore/database';
import { z } from 'zod';

/** A throw-away database, unique to one test file, on the server of DATABASE_URL. */
export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** The PostgreSQL server tests use: DATABASE_URL's, else the local default. */
export function testServerUrl(): string {
  return loadConfig(z.object({ DATABASE_URL: commonVars.DATABASE_URL })).DATABASE_URL;
}

export async function createTestDatabase(prefix = 'cloudstore_test'): Promise<TestDatabase> {
  const url = new URL(testServerUrl());
  url.pathname = `/${prefix}_${randomBytes(5).toString('hex')}`;
  await ensureDatabaseExists(url.toString());
  return { url: url.toString(), drop: () => dropDatabase(url.toString()) };
}
