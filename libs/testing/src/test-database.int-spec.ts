import { Client } from 'pg';
import { createTestDatabase, testServerUrl } from './test-database';

async function query(url: string, sql: string, params: unknown[] = []): Promise<unknown[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe(createTestDatabase.name, () => {
  it('creates a database of its own, on the server of DATABASE_URL, that drop() removes', async () => {
    const [a, b] = await Promise.all([createTestDatabase('cloudstore_testing'), createTestDatabase('cloudstore_testing')]);
    try {
      expect(a.url).not.toBe(b.url);
      expect(new URL(a.url).host).toBe(new URL(testServerUrl()).host);
      expect(new URL(a.url).pathname).toMatch(/^\/cloudstore_testing_[0-9a-f]{10}$/);
      await query(a.url, 'CREATE TABLE only_in_a (id int)');
      expect(await query(b.url, `SELECT 1 FROM information_schema.tables WHERE table_name = 'only_in_a'`)).toEqual([]);
    } finally {
      await Promise.all([a.drop(), b.drop()]);
    }
    const name = new URL(a.url).pathname.slice(1);
    const maintenance = new URL(testServerUrl());
    maintenance.pathname = '/postgres';
    expect(await query(maintenance.toString(), 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).toEqual([]);
  });
});
