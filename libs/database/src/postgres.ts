import { Client } from 'pg';

/** The URL with any password masked, for messages and logs. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}

export function databaseNameOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) throw new Error(`DATABASE_URL ${redactDatabaseUrl(url)} names no database`);
  return name;
}

/** The same server, but the `postgres` maintenance database (for CREATE/DROP DATABASE). */
export function maintenanceUrlOf(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = '/postgres';
  return parsed.toString();
}

async function withClient<T>(url: string, timeoutMs: number, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Resolves when the server behind `url` accepts a connection and answers a query. */
export async function pingDatabaseServer(url: string, timeoutMs = 3000): Promise<void> {
  await withClient(maintenanceUrlOf(url), timeoutMs, (client) => client.query('SELECT 1'));
}

/**
 * Creates the database named in `url` when it does not exist. Safe when several processes
 * start at once: losing the race to create it is success.
 */
export async function ensureDatabaseExists(url: string, timeoutMs = 5000): Promise<boolean> {
  const name = databaseNameOf(url);
  return withClient(maintenanceUrlOf(url), timeoutMs, async (client) => {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (existing.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      return true;
    } catch (error) {
      // 42P04 duplicate_database, 23505 unique_violation: another process created it first.
      const code = (error as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw error;
    }
  });
}

export async function dropDatabase(url: string): Promise<void> {
  const name = databaseNameOf(url);
  await withClient(maintenanceUrlOf(url), 5000, (client) =>
    client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`),
  );
}
