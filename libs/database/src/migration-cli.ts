import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { commonVars, loadConfig } from '@cloudstore/config';
import { generateMigration, type MigrationTarget } from './migration-generator';
import { prepareServiceDatabase } from './migrations';
import { redactDatabaseUrl } from './postgres';

const databaseUrlSchema = z.object({ DATABASE_URL: commonVars.DATABASE_URL });

/** An error as one line: a failed connection to every address of a host has no message of its own. */
function oneLine(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const text = error.message || (error instanceof AggregateError ? error.errors.map((e) => oneLine(e)).join('; ') : '');
  return (text || error.name).replace(/\s*\n\s*/g, ' ');
}

/**
 * The command line of a service's migrations:
 *   npm run migration:generate -- <service> <PascalCaseName>
 */
export function runMigrationCli(service: string, target: MigrationTarget, argv = process.argv.slice(2)): void {
  const [name] = argv;
  const run = async () => {
    if (!name) throw new Error(`usage: npm run migration:generate -- ${service} <PascalCaseName>`);
    const { DATABASE_URL } = loadConfig(databaseUrlSchema);
    const file = await generateMigration(target, name, DATABASE_URL);
    process.stdout.write(
      file ? `${service}: wrote ${file}\n` : `${service}: entities and migrations agree, nothing to generate\n`,
    );
  };
  run().catch((error: unknown) => {
    process.stderr.write(`${service}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

/**
 * A service's migration-only command, `node dist/apps/<service>/src/migrate.js` (a Kubernetes init
 * container, before new pods serve): reads DATABASE_URL, then creates the database when missing
 * and runs the pending migrations exactly as the service's start does (under the same advisory
 * lock). One line on stdout and exit 0; on any failure one line on stderr and exit 1.
 */
export function runMigrateCommand(service: string, schema: string, createDataSource: (url: string) => DataSource): void {
  const run = async () => {
    const { DATABASE_URL } = loadConfig(databaseUrlSchema);
    const { dataSource, migrations } = await prepareServiceDatabase(DATABASE_URL, schema, createDataSource);
    await dataSource.destroy();
    const ran = migrations.length === 0 ? 'no migration pending' : `ran ${migrations.length}: ${migrations.join(', ')}`;
    return `${service}: schema "${schema}" of ${redactDatabaseUrl(DATABASE_URL)} is up to date (${ran})`;
  };
  run().then(
    (line) => {
      process.stdout.write(`${line}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${service}: migrations failed: ${oneLine(error)}\n`);
      process.exit(1);
    },
  );
}
