import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { commonVars, loadConfig } from '@cloudstore/config';
import { z } from 'zod';
import { databaseNameOf, dropDatabase, ensureDatabaseExists, pingDatabaseServer, redactDatabaseUrl } from './postgres';

const serverUrl = loadConfig(z.object({ DATABASE_URL: commonVars.DATABASE_URL })).DATABASE_URL;

function uniqueDatabaseUrl(): string {
  const url = new URL(serverUrl);
  url.pathname = `/cloudstore_dbtest_${randomBytes(5).toString('hex')}`;
  return url.toString();
}

async function databaseExists(url: string): Promise<boolean> {
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const client = new Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    const result = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseNameOf(url)]);
    return result.rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('PostgreSQL server helpers', () => {
  describe(ensureDatabaseExists.name, () => {
    it('creates the database once, then reports it already there', async () => {
      const url = uniqueDatabaseUrl();
      try {
        await expect(ensureDatabaseExists(url)).resolves.toBe(true);
        await expect(ensureDatabaseExists(url)).resolves.toBe(false);
        expect(await databaseExists(url)).toBe(true);
      } finally {
        await dropDatabase(url);
      }
    });

    it('lets processes that start together race: exactly one creates it, none fails', async () => {
      const url = uniqueDatabaseUrl();
      try {
        const created = await Promise.all(Array.from({ length: 6 }, () => ensureDatabaseExists(url)));
        expect(created.filter(Boolean)).toHaveLength(1);
        expect(await databaseExists(url)).toBe(true);
      } finally {
        await dropDatabase(url);
      }
    });

    it('creates a database whose name needs quoting', async () => {
      const url = new URL(serverUrl);
      url.pathname = `/${encodeURIComponent(`cloudstore "odd" ${randomBytes(3).toString('hex')}`)}`;
      try {
        await expect(ensureDatabaseExists(url.toString())).resolves.toBe(true);
        expect(await databaseExists(url.toString())).toBe(true);
      } finally {
        await dropDatabase(url.toString());
      }
      expect(await databaseExists(url.toString())).toBe(false);
    });
  });

  describe(dropDatabase.name, () => {
    it('drops a database even with a session still connected, and a missing one is no error', async () => {
      const url = uniqueDatabaseUrl();
      await ensureDatabaseExists(url);
      const session = new Client({ connectionString: url });
      session.on('error', () => undefined);
      await session.connect();
      try {
        await dropDatabase(url);
        expect(await databaseExists(url)).toBe(false);
        await expect(dropDatabase(url)).resolves.toBeUndefined();
      } finally {
        await session.end().catch(() => undefined);
      }
    });
  });

  describe(pingDatabaseServer.name, () => {
    it('answers for the test server, even when the named database does not exist yet', async () => {
      await expect(pingDatabaseServer(uniqueDatabaseUrl())).resolves.toBeUndefined();
    });

    it('fails when nothing listens at the address', async () => {
      await expect(pingDatabaseServer('postgres://postgres@127.0.0.1:1/cloudstore', 2000)).rejects.toThrow(/ECONNREFUSED/);
    });
  });

  describe(databaseNameOf.name, () => {
    it('decodes the path of the URL', () => {
      expect(databaseNameOf('postgres://u@h:5432/my%20db')).toBe('my db');
    });

    it('refuses a URL that names no database, without echoing its password', () => {
      expect(() => databaseNameOf('postgres://u:secret@h:5432/')).toThrow('postgres://u:***@h:5432/ names no database');
    });
  });

  describe(redactDatabaseUrl.name, () => {
    it('masks the password and keeps the rest', () => {
      expect(redactDatabaseUrl('postgres://app:hunter2@db:5432/cloudstore')).toBe('postgres://app:***@db:5432/cloudstore');
      expect(redactDatabaseUrl('postgres://app@db/cloudstore')).toBe('postgres://app@db/cloudstore');
    });

    it('never echoes a URL it cannot parse (it may hold a password)', () => {
      expect(redactDatabaseUrl('not a url :hunter2@')).toBe('<unparseable DATABASE_URL>');
    });
  });
});
