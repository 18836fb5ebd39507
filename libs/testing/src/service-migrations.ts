import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { dropDatabase, migrateServiceSchema, pendingSchemaChanges } from '@cloudstore/database';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase, testServerUrl } from './test-database';

/**
 * The checks every service's migrations must pass, against a fresh database: they describe the
 * entities exactly (TypeORM finds nothing to change), they run once, and they revert cleanly.
 */
export function describeServiceMigrations(service: string, schema: string, createDataSource: (url: string) => DataSource): void {
  describe(`${service} migrations`, () => {
    let db: TestDatabase;
    let dataSource: DataSource;

    // Each test on a fresh database of its own, so that each stands alone and in any order.
    beforeEach(async () => {
      db = await createTestDatabase();
      dataSource = createDataSource(db.url);
      await dataSource.initialize();
    });

    afterEach(async () => {
      await dataSource.destroy();
      await db.drop();
    });

    it('describe the entities exactly: nothing left for TypeORM to change', async () => {
      expect((await migrateServiceSchema(dataSource, schema)).length).toBe(dataSource.migrations.length);
      expect(await pendingSchemaChanges(dataSource)).toEqual([]);
    });

    it('run once: a second start finds nothing pending', async () => {
      await migrateServiceSchema(dataSource, schema);
      expect(await migrateServiceSchema(dataSource, schema)).toEqual([]);
    });

    it('revert cleanly, down to an empty schema, and apply again', async () => {
      expect((await migrateServiceSchema(dataSource, schema)).length).toBe(dataSource.migrations.length);
      for (let i = 0; i < dataSource.migrations.length; i += 1) await dataSource.undoLastMigration({ transaction: 'all' });
      const tables: { table_name: string }[] = await dataSource.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'migrations'`,
        [schema],
      );
      expect(tables).toEqual([]);
      await migrateServiceSchema(dataSource, schema);
      expect(await pendingSchemaChanges(dataSource)).toEqual([]);
    });
  });
}

interface CommandRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `node dist/apps/<service>/src/migrate.js` with only `env` (and PATH). */
function runMigrateCommand(service: string, env: Record<string, string>): Promise<CommandRun> {
  const command = join(__dirname, '../../../dist/apps', service, 'src/migrate.js');
  return new Promise((resolve) => {
    execFile(process.execPath, [command], { env: { PATH: process.env['PATH'] ?? '', ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

/**
 * The checks of a service's migration-only command (a Kubernetes init container), run as built:
 * it creates a missing database and leaves the schema current, says so in one line and exits 0;
 * it fails with one line and exit 1.
 */
export function describeMigrateCommand(service: string, schema: string, createDataSource: (url: string) => DataSource): void {
  describe(`node dist/apps/${service}/src/migrate.js`, () => {
    let url: string;

    beforeEach(() => {
      const database = new URL(testServerUrl());
      database.pathname = `/cloudstore_migrate_${randomBytes(5).toString('hex')}`;
      url = database.toString();
    });

    afterEach(() => dropDatabase(url));

    it('creates the database, runs every pending migration once, and exits 0 with one line', async () => {
      const first = await runMigrateCommand(service, { DATABASE_URL: url });
      expect(first).toMatchObject({ code: 0, stderr: '' });
      expect(first.stdout).toMatch(new RegExp(`^${service}: schema "${schema}" of .* is up to date \\(ran \\d+: .+\\)\\n$`));

      const dataSource = createDataSource(url);
      await dataSource.initialize();
      try {
        const ran = first.stdout.slice(first.stdout.indexOf('(ran ')).match(/\d+/)?.[0];
        expect(Number(ran)).toBe(dataSource.migrations.length);
        expect(await migrateServiceSchema(dataSource, schema)).toEqual([]);
        expect(await pendingSchemaChanges(dataSource)).toEqual([]);
      } finally {
        await dataSource.destroy();
      }

      const again = await runMigrateCommand(service, { DATABASE_URL: url });
      expect(again).toMatchObject({ code: 0, stderr: '' });
      expect(again.stdout).toMatch(/ is up to date \(no migration pending\)\n$/);
    });

    it('fails with one line and exit 1 when the database cannot be reached or DATABASE_URL is bad', async () => {
      const unreachable = new URL(url);
      unreachable.port = '1';
      const down = await runMigrateCommand(service, { DATABASE_URL: unreachable.toString() });
      expect(down).toMatchObject({ code: 1, stdout: '' });
      expect(down.stderr).toMatch(new RegExp(`^${service}: migrations failed: connect ECONNREFUSED \\S+:1\\n$`));

      const bad = await runMigrateCommand(service, { DATABASE_URL: 'mysql://db/cloudstore' });
      expect(bad).toEqual({
        code: 1,
        stdout: '',
        stderr: `${service}: migrations failed: invalid configuration: DATABASE_URL must be a URL starting with postgres:// or postgresql://, got "mysql://db/cloudstore"\n`,
      });
    });
  });
}
