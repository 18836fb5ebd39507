import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { migrateServiceSchema } from './migrations';
import { dropDatabase, ensureDatabaseExists } from './postgres';

export interface MigrationTarget {
  /** The PostgreSQL schema the service owns. */
  readonly schema: string;
  readonly createDataSource: (url: string) => DataSource;
  /** Folder of the service's migrations; its index.ts lists them in order. */
  readonly migrationsDir: string;
  /** Name of the array exported by that index.ts. */
  readonly listName: string;
}

function templateLiteral(sql: string): string {
  return `\`${sql.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${')}\``;
}

/**
 * Writes the migration that brings a service's schema from its current migrations to its
 * entities, the way `typeorm migration:generate` does, using a scratch database on the server
 * of `databaseUrl`. Returns the file written, or undefined when nothing differs.
 */
export async function generateMigration(target: MigrationTarget, name: string, databaseUrl: string): Promise<string | undefined> {
  if (!/^[A-Z][A-Za-z0-9]+$/.test(name)) throw new Error('the migration name must be PascalCase');
  const scratch = new URL(databaseUrl);
  scratch.pathname = `/cloudstore_migration_${randomBytes(4).toString('hex')}`;
  await ensureDatabaseExists(scratch.toString());
  const dataSource = target.createDataSource(scratch.toString());
  try {
    await dataSource.initialize();
    await migrateServiceSchema(dataSource, target.schema);
    const sql = await dataSource.driver.createSchemaBuilder().log();
    if (sql.upQueries.length === 0) return undefined;
    const timestamp = Date.now();
    const className = `${name}${timestamp}`;
    const file = join(target.migrationsDir, `${timestamp}-${name}.ts`);
    const render = (queries: { query: string; parameters?: unknown[] }[]) =>
      queries
        .map(
          (q) =>
            `    await queryRunner.query(${templateLiteral(q.query)}${q.parameters?.length ? `, ${JSON.stringify(q.parameters)}` : ''});`,
        )
        .join('\n');
    await writeFile(
      file,
      `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(queryRunner: QueryRunner): Promise<void> {
${render(sql.upQueries)}
  }

  async down(queryRunner: QueryRunner): Promise<void> {
${render([...sql.downQueries].reverse())}
  }
}
`,
    );
    await writeMigrationIndex(target);
    return file;
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await dropDatabase(scratch.toString());
  }
}

async function writeMigrationIndex(target: MigrationTarget): Promise<void> {
  const migrations = (await readdir(target.migrationsDir))
    .filter((f) => /^\d+-[A-Za-z0-9]+\.ts$/.test(f))
    .sort()
    .map((f) => {
      const [timestamp, pascal] = f.replace(/\.ts$/, '').split('-');
      return { module: f.replace(/\.ts$/, ''), className: `${pascal}${timestamp}` };
    });
  await writeFile(
    join(target.migrationsDir, 'index.ts'),
    `${migrations.map((m) => `import { ${m.className} } from './${m.module}';`).join('\n')}

/** In the order they run; \`npm run migration:generate\` keeps this list. */
export const ${target.listName} = [${migrations.map((m) => m.className).join(', ')}];
`,
  );
}
