import { randomBytes } from 'node:crypto';
import { commonVars, loadConfig, metadataConfigSchema } from '@cloudstore/config';
import { dropDatabase, ensureDatabaseExists, migrateServiceSchema } from '@cloudstore/database';
import { createLogger } from '@cloudstore/observability';
import { createRedisClient } from '@cloudstore/redis';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { createMetadataDataSource, METADATA_SCHEMA } from '../database/metadata-data-source';
import type { JobQueues } from '../jobs/job-queues';
import { NodeRegistryRepository } from '../node-registry/node-registry.repository';
import { ReplicationCheckService } from './replication-check.service';
import { ReplicationRepository } from './replication.repository';

/**
 * The replication check against 1,000,000 chunk rows (node run dist/…/repair-check-bench.js
 * [chunks], or `npm run bench -- repair-check`): seeds a fresh database straight with SQL (files
 * of 4 chunks, 3 replicas each on 4 nodes), then times the check's own queries with EXPLAIN
 * ANALYZE: a check with nothing to repair, the under-replicated count a /metrics scrape reads,
 * and the scheduling of a node's chunks after it goes down. Prints one JSON object.
 */
async function main(): Promise<void> {
  const chunks = Number(process.argv[2] ?? 1_000_000);
  const { DATABASE_URL, REDIS_URL, REDIS_CA_FILE } = loadConfig(
    z.object({ DATABASE_URL: commonVars.DATABASE_URL, REDIS_URL: commonVars.REDIS_URL, REDIS_CA_FILE: commonVars.REDIS_CA_FILE }),
  );
  const url = new URL(DATABASE_URL);
  url.pathname = `/cloudstore_bench_check_${randomBytes(4).toString('hex')}`;
  const config = loadConfig(metadataConfigSchema, {
    DATABASE_URL: url.toString(),
    REDIS_URL,
    ...(REDIS_CA_FILE ? { REDIS_CA_FILE } : {}),
    REDIS_KEY_PREFIX: `benchcheck${randomBytes(4).toString('hex')}`,
  });
  await ensureDatabaseExists(config.DATABASE_URL);
  const dataSource = createMetadataDataSource(config.DATABASE_URL);
  const redis = createRedisClient(config, undefined);
  try {
    await dataSource.initialize();
    await migrateServiceSchema(dataSource, METADATA_SCHEMA);
    const seedSeconds = await seed(config.DATABASE_URL, chunks);
    process.stderr.write(`repair-check bench: ${chunks} chunks seeded in ${seedSeconds} s\n`);

    const timer = new ExplainTimer(dataSource);
    const repository = new ReplicationRepository(timer.explaining, config);
    let queued = 0;
    // Queueing is Redis's cost, not detection's: counted here, not sent.
    const queues = {
      replicate: () => {
        queued += 1;
        return Promise.resolve();
      },
    } as unknown as JobQueues;
    const check = new ReplicationCheckService(
      config,
      redis,
      repository,
      new NodeRegistryRepository(dataSource),
      queues,
      createLogger('repair-check-bench', 'warn'),
    );

    // A metadata service that starts without walk state walks every node once, in pages.
    const firstWalk = await untilWalked(check, timer);
    const idle: number[] = [];
    const idleWall: number[] = [];
    for (let i = 0; i < 9; i += 1) {
      timer.reset();
      const started = performance.now();
      const outcome = await check.run();
      idleWall.push(performance.now() - started);
      if (outcome.queued > 0 || outcome.walked > 0) throw new Error(`a settled cluster had work: ${JSON.stringify(outcome)}`);
      idle.push(timer.total);
    }
    const count: number[] = [];
    for (let i = 0; i < 9; i += 1) {
      timer.reset();
      if ((await repository.countUnderReplicated()) !== 0) throw new Error('a settled cluster counted under-replicated chunks');
      count.push(timer.total);
    }

    await dataSource.query(
      `UPDATE metadata.storage_nodes SET last_heartbeat_at = now() - interval '1 hour' WHERE node_id = 'node-1'`,
    );
    const lost = Number(
      (await dataSource.query<{ n: string }[]>(`SELECT count(*) AS n FROM metadata.chunk_replicas WHERE node_id = 'node-1'`))[0]
        ?.n,
    );
    queued = 0;
    const down = await untilWalked(check, timer);
    if (queued !== lost) throw new Error(`node-1 held ${lost} chunks, ${queued} were scheduled`);
    timer.reset();
    const under = await repository.countUnderReplicated();
    const countDown = timer.total;

    process.stdout.write(
      `${JSON.stringify(
        {
          chunks,
          replicas: chunks * 3,
          nodes: 4,
          seed_seconds: seedSeconds,
          idle_check_db_ms: { median: median(idle), max: round(Math.max(...idle)), runs: idle.length },
          idle_check_wall_ms: { median: round(median(idleWall)) },
          under_replicated_count_db_ms: { median: median(count), max: round(Math.max(...count)) },
          first_walk_of_all_nodes: firstWalk,
          node_down: { chunks_on_node: lost, scheduled: queued, ...down },
          under_replicated_count_with_node_down: { chunks: under, db_ms: round(countDown) },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    const keys = await redis.keys(`${config.REDIS_KEY_PREFIX}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    if (dataSource.isInitialized) await dataSource.destroy();
    await dropDatabase(config.DATABASE_URL);
  }
}

/** Checks until a check walks nothing more: how many checks, their database and wall time. */
async function untilWalked(
  check: ReplicationCheckService,
  timer: ExplainTimer,
): Promise<{ checks: number; db_ms_total: number; db_ms_per_check_median: number; wall_seconds: number }> {
  const perCheck: number[] = [];
  const started = performance.now();
  for (;;) {
    timer.reset();
    const outcome = await check.run();
    if (outcome.walked === 0 && outcome.queued === 0) break;
    perCheck.push(timer.total);
  }
  return {
    checks: perCheck.length,
    db_ms_total: round(perCheck.reduce((a, b) => a + b, 0)),
    db_ms_per_check_median: median(perCheck),
    wall_seconds: round((performance.now() - started) / 1000),
  };
}

/** Runs each query of the repository twice: once under EXPLAIN ANALYZE for its execution time, once for its rows. */
class ExplainTimer {
  total = 0;
  readonly explaining: DataSource;

  constructor(dataSource: DataSource) {
    const query = async (sql: string, params?: unknown[]): Promise<unknown> => {
      const plan = await dataSource.query<{ 'QUERY PLAN': { 'Execution Time': number; 'Planning Time': number }[] }[]>(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`,
        params,
      );
      const first = plan[0]?.['QUERY PLAN'][0];
      this.total += (first?.['Execution Time'] ?? 0) + (first?.['Planning Time'] ?? 0);
      return dataSource.query(sql, params);
    };
    this.explaining = new Proxy(dataSource, {
      get: (target, property, receiver) => (property === 'query' ? query : (Reflect.get(target, property, receiver) as unknown)),
    });
  }

  reset(): void {
    this.total = 0;
  }
}

/**
 * Straight into the tables, in a few statements, on a connection of its own (no statement
 * timeout); triggers off, the ok-replica counts set directly.
 */
async function seed(url: string, chunks: number): Promise<number> {
  const started = performance.now();
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    await pg.query('BEGIN');
    await pg.query(`SET LOCAL session_replication_role = replica`);
    await pg.query(
      `INSERT INTO metadata.storage_nodes (node_id, address, capacity_bytes, last_heartbeat_at)
       SELECT 'node-' || i, '127.0.0.1:' || (50071 + i), 1e15, now() + interval '1 day' FROM generate_series(0, 3) i`,
    );
    await pg.query(
      `INSERT INTO metadata.files (id, public_id, owner_id, filename, size_bytes, sha256, chunk_count, chunk_size)
       SELECT md5('file' || f)::uuid, md5('file' || f)::uuid, md5('owner' || (f % 1000))::uuid, 'file-' || f || '.bin', 16777216, md5('sha' || f), 4, 4194304
       FROM generate_series(0, $1::int / 4 - 1) f`,
      [chunks],
    );
    await pg.query(
      `INSERT INTO metadata.chunks (id, file_id, "index", size_bytes, sha256, ok_replicas)
       SELECT md5('chunk' || i), md5('file' || (i / 4))::uuid, i % 4, 4194304, md5('sha' || i), 3
       FROM generate_series(0, $1::int - 1) i`,
      [chunks],
    );
    await pg.query(
      `INSERT INTO metadata.chunk_replicas (chunk_id, node_id, state)
       SELECT md5('chunk' || i), 'node-' || ((i + k) % 4), 'ok' FROM generate_series(0, $1::int - 1) i, generate_series(0, 2) k`,
      [chunks],
    );
    await pg.query('COMMIT');
    await pg.query(`VACUUM ANALYZE metadata.storage_nodes, metadata.files, metadata.chunks, metadata.chunk_replicas`);
  } finally {
    await pg.end();
  }
  return round((performance.now() - started) / 1000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.floor(sorted.length / 2)] ?? 0);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

main().catch((error: unknown) => {
  process.stderr.write(`repair-check bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
