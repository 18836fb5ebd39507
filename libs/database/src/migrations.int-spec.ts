import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commonVars, loadConfig } from '@cloudstore/config';
import { Column, type DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { z } from 'zod';
import { bigintToNumber } from './column-transformers';
import { createServiceDataSource } from './data-source';
import { generateMigration, type MigrationTarget } from './migration-generator';
import { migrateServiceSchema, pendingSchemaChanges } from './migrations';
import { dropDatabase, ensureDatabaseExists } from './postgres';

@Entity()
class StoredChunkRecord {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'bigint', transformer: bigintToNumber })
  sizeBytes!: number;

  @Column({ type: 'text', nullable: true })
  displayName!: string | null;
}

const SCHEMA = 'things';
const serverUrl = loadConfig(z.object({ DATABASE_URL: commonVars.DATABASE_URL })).DATABASE_URL;

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for migration classes
function dataSourceFor(url: string, migrations: Function[]): DataSource {
  return createServiceDataSource({ url, schema: SCHEMA, entities: [StoredChunkRecord], migrations, poolSize: 2 });
}

describe('service migrations', () => {
  let url: string;
  let migrationsDir: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for migration classes
  let generated: Function[];
  const opened: DataSource[] = [];

  async function open(): Promise<DataSource> {
    const dataSource = dataSourceFor(url, generated);
    opened.push(dataSource);
    return dataSource.initialize();
  }

  beforeAll(async () => {
    migrationsDir = await mkdtemp(join(tmpdir(), 'cloudstore-migrations-'));
    const target: MigrationTarget = {
      schema: SCHEMA,
      createDataSource: (scratchUrl) => dataSourceFor(scratchUrl, []),
      migrationsDir,
      listName: 'THING_MIGRATIONS',
    };
    const file = await generateMigration(target, 'CreateThings', serverUrl);
    if (!file) throw new Error('no migration was generated for a schema that does not exist yet');
    // eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/no-unsafe-function-type -- the generated list, loaded as a service loads its own
    generated = (require(join(migrationsDir, 'index.ts')) as { THING_MIGRATIONS: Function[] }).THING_MIGRATIONS;
  });

  afterAll(async () => {
    await rm(migrationsDir, { recursive: true, force: true });
  });

  // Each test has a database of its own, so that each passes alone and in any order.
  beforeEach(async () => {
    const database = new URL(serverUrl);
    database.pathname = `/cloudstore_migtest_${randomBytes(5).toString('hex')}`;
    url = database.toString();
    await ensureDatabaseExists(url);
  });

  afterEach(async () => {
    await Promise.all(
      opened
        .splice(0)
        .filter((d) => d.isInitialized)
        .map((d) => d.destroy()),
    );
    await dropDatabase(url);
  });

  it('generates one migration with up and down, listed in index.ts', async () => {
    const files = (await readdir(migrationsDir)).sort();
    expect(files).toEqual([expect.stringMatching(/^\d+-CreateThings\.ts$/), 'index.ts']);
    const source = await readFile(join(migrationsDir, files[0] ?? ''), 'utf8');
    expect(source).toMatch(/async up\(queryRunner[\s\S]*CREATE TABLE "things"\."stored_chunk_record"/);
    expect(source).toMatch(/async down\(queryRunner[\s\S]*DROP TABLE "things"\."stored_chunk_record"/);
    expect(generated).toHaveLength(1);
  });

  it('runs the migrations once when replicas start together (advisory lock), leaving nothing to change', async () => {
    const [a, b, c] = await Promise.all([open(), open(), open()]);
    const ran = await Promise.all([a, b, c].map((d) => migrateServiceSchema(d, SCHEMA)));
    expect(ran.flat()).toHaveLength(1);
    expect(await pendingSchemaChanges(a)).toEqual([]);
    expect(await migrateServiceSchema(a, SCHEMA)).toEqual([]);
  });

  it('names columns in snake_case and reads bigint back as a number', async () => {
    const dataSource = await open();
    await migrateServiceSchema(dataSource, SCHEMA);
    const columns: { column_name: string }[] = await dataSource.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'stored_chunk_record' ORDER BY column_name`,
      [SCHEMA],
    );
    expect(columns.map((c) => c.column_name)).toEqual(['display_name', 'id', 'size_bytes']);
    const repository = dataSource.getRepository(StoredChunkRecord);
    const saved = await repository.save(repository.create({ sizeBytes: 2 ** 40 + 1, displayName: null }));
    expect(await repository.findOneByOrFail({ id: saved.id })).toEqual({
      id: saved.id,
      sizeBytes: 2 ** 40 + 1,
      displayName: null,
    });
  });

  it('reports what the database lacks when an entity is ahead of the migrations', async () => {
    const dataSource = await open();
    await migrateServiceSchema(dataSource, SCHEMA);
    await dataSource.query(`ALTER TABLE "${SCHEMA}"."stored_chunk_record" DROP COLUMN "display_name"`);
    expect(await pendingSchemaChanges(dataSource)).toEqual([expect.stringMatching(/ADD "display_name" text/)]);
  });
});
