import { z } from 'zod';
import { commonVars, loadConfig } from '@cloudstore/config';
import { generateMigration, type MigrationTarget } from './migration-generator';

/**
 * The command line of a service's migrations:
 *   npm run migration:generate -- <service> <PascalCaseName>
 */
export function runMigrationCli(service: string, target: MigrationTarget, argv = process.argv.slice(2)): void {
  const [name] = argv;
  const run = async () => {
    if (!name) throw new Error(`usage: npm run migration:generate -- ${service} <PascalCaseName>`);
    const { DATABASE_URL } = loadConfig(z.object({ DATABASE_URL: commonVars.DATABASE_URL }));
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
