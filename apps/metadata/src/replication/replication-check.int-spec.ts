import { randomUUID } from 'node:crypto';
import { type MetadataConfig } from '@cloudstore/config';
import { createLogger } from '@cloudstore/observability';
import { waitFor } from '@cloudstore/testing';
import { type Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { ChunksRepository } from '../files/chunks.repository';
import { JobQueues } from '../jobs/job-queues';
import { NodeRegistryRepository } from '../node-registry/node-registry.repository';
import type { NodeState } from '../node-registry/storage-node.entity';
import { DEFAULT_CHECK_LIMITS, ReplicationCheckService } from './replication-check.service';
import { ReplicationRepository } from './replication.repository';
import { createMetadataTestStores, type MetadataTestStores } from '../metadata-test-stores.test-helper';

interface NodeSpec {
  readonly id: string;
  readonly alive?: boolean;
  readonly state?: NodeState;
}

describe('repair detection (real PostgreSQL and Redis, migrations applied)', () => {
  let stores: MetadataTestStores;
  let dataSource: DataSource;
  let redis: Redis;
  let config: MetadataConfig;
  let queues: JobQueues;
  let repository: ReplicationRepository;
  let check: ReplicationCheckService;

  beforeAll(async () => {
    stores = await createMetadataTestStores({ NODE_DOWN_AFTER_SECONDS: '15', REPLICATION_FACTOR: '3' });
    ({ dataSource, config } = stores);
    redis = stores.redis.client;
    queues = new JobQueues(config);
    repository = new ReplicationRepository(dataSource, config);
    check = new ReplicationCheckService(
      config,
      redis,
      repository,
      new NodeRegistryRepository(dataSource),
      queues,
      createLogger('check-test', 'silent'),
      // Small pages, and one page of walking per check: the batching shows with a few chunks.
      { ...DEFAULT_CHECK_LIMITS, walkPage: 5, walkBudget: 5 },
    );
  });

  afterAll(async () => {
    await queues.onApplicationShutdown();
    await stores.drop();
  });

  beforeEach(async () => {
    await dataSource.query(`TRUNCATE metadata.storage_nodes, metadata.files, metadata.chunks, metadata.chunk_replicas CASCADE`);
    await queues.replication.obliterate({ force: true });
    const keys = await redis.keys(`${config.REDIS_KEY_PREFIX}:replication-check:*`);
    if (keys.length > 0) await redis.del(...keys);
  });

  async function nodes(...specs: NodeSpec[]): Promise<void> {
    for (const { id, alive = true, state = 'active' } of specs) {
      await dataSource.query(
        `INSERT INTO metadata.storage_nodes (node_id, address, state, last_heartbeat_at)
         VALUES ($1, '127.0.0.1:1', $2, now() - make_interval(secs => $3))
         ON CONFLICT (node_id) DO UPDATE SET state = EXCLUDED.state, last_heartbeat_at = EXCLUDED.last_heartbeat_at`,
        [id, state, alive ? 0 : 60],
      );
    }
  }

  /** A committed chunk (of a live file unless `deleted`) with replicas `node` or `node:state`; returns its id. */
  async function chunk(id: string, replicas: string[], options: { deleted?: boolean } = {}): Promise<string> {
    const fileId = randomUUID();
    await dataSource.query(
      `INSERT INTO metadata.files (id, public_id, owner_id, filename, size_bytes, sha256, chunk_count, chunk_size, deleted_at)
       VALUES ($1, $1, $2, $3, 10, 'x', 1, 10, $4)`,
      [fileId, randomUUID(), `${id}.bin`, options.deleted ? new Date() : null],
    );
    await dataSource.query(`INSERT INTO metadata.chunks (id, file_id, "index", size_bytes, sha256) VALUES ($1, $2, 0, 10, 'x')`, [
      id,
      fileId,
    ]);
    for (const replica of replicas) {
      const [nodeId, state = 'ok'] = replica.split(':');
      await dataSource.query(`INSERT INTO metadata.chunk_replicas (chunk_id, node_id, state) VALUES ($1, $2, $3)`, [
        id,
        nodeId,
        state,
      ]);
    }
    return id;
  }

  async function queued(): Promise<string[]> {
    const jobs = await queues.replication.getJobs(['waiting', 'prioritized', 'active', 'delayed']);
    return jobs.map((j) => (j.data as { chunkId: string }).chunkId).sort();
  }

  async function okReplicas(chunkId: string): Promise<number> {
    const rows = await dataSource.query<{ ok_replicas: number }[]>(`SELECT ok_replicas FROM metadata.chunks WHERE id = $1`, [
      chunkId,
    ]);
    return rows[0]?.ok_replicas ?? -1;
  }

  it('keeps each chunk’s count of ok replicas in the statements that change its replicas', async () => {
    await nodes({ id: 'a' }, { id: 'b' }, { id: 'c' });
    await chunk('c1', ['a', 'b:corrupt']);
    expect(await okReplicas('c1')).toBe(1);
    await repository.recordReplica('c1', 'b');
    await repository.recordReplica('c1', 'c');
    expect(await okReplicas('c1')).toBe(3);
    await repository.recordReplica('c1', 'c');
    expect(await okReplicas('c1')).toBe(3);
    await repository.markReplica('c1', 'a', 'missing');
    expect(await okReplicas('c1')).toBe(2);
    await repository.forgetReplica('c1', 'a');
    await repository.forgetReplica('c1', 'b');
    expect(await okReplicas('c1')).toBe(1);
  });

  it('finds and counts chunks under their target, and nothing when all are at it', async () => {
    await nodes({ id: 'a' }, { id: 'b' }, { id: 'c' });
    await chunk('full', ['a', 'b', 'c']);
    expect(await repository.findDamagedChunks(100)).toEqual([]);
    expect(await repository.countUnderReplicated()).toBe(0);
    await chunk('two', ['a', 'b']);
    await chunk('one', ['c']);
    await chunk('trashed', ['a'], { deleted: true });
    // Most damaged first; chunks of deleted files are repaired too, but not counted as under-replicated.
    expect(await repository.findDamagedChunks(100)).toEqual(['one', 'trashed', 'two']);
    expect(await repository.countUnderReplicated()).toBe(2);
    expect(await repository.findDamagedChunks(1)).toEqual(['one']);
  });

  it('finds broken replicas on live nodes, but leaves a broken one on a down node alone when the chunk is at target', async () => {
    await nodes({ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }, { id: 'gone', alive: false });
    await chunk('broken-live', ['a', 'b', 'c', 'd:corrupt']);
    await chunk('broken-down', ['a', 'b', 'c', 'gone:missing']);
    expect(await repository.findDamagedChunks(100)).toEqual(['broken-live']);
    expect(await repository.countUnderReplicated()).toBe(0);
  });

  it('caps the target at the live nodes: with one of three down, two healthy replicas are enough', async () => {
    await nodes({ id: 'a' }, { id: 'b' }, { id: 'c', alive: false });
    await chunk('on-all', ['a', 'b', 'c']);
    await chunk('on-down', ['a', 'c']);
    await chunk('at-two', ['a', 'b']);
    expect(await repository.needingWork(['on-all', 'on-down', 'at-two'])).toEqual(['on-down']);
    expect(await repository.countUnderReplicated()).toBe(1);
    await nodes({ id: 'a', alive: false }, { id: 'b', alive: false });
    // No live node: nothing can be done, nothing is counted.
    expect(await repository.needingWork(['on-all', 'on-down', 'at-two'])).toEqual([]);
    expect(await repository.countUnderReplicated()).toBe(0);
  });

  it('walks a node that went down in pages by chunk id, queueing only the chunks that lost a healthy replica', async () => {
    await nodes({ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' });
    const onD: string[] = [];
    for (let i = 0; i < 12; i += 1) onD.push(await chunk(`d${String(i).padStart(2, '0')}`, ['a', 'b', 'd']));
    await chunk('elsewhere', ['a', 'b', 'c']);
    // Settled: every node walked once (a page per check), then nothing to read and nothing to do.
    await waitFor('every node walked', async () => (await check.run()).walked === 0, 5000, 1);
    expect(await queued()).toEqual([]);

    await nodes({ id: 'd', alive: false });
    // Already repaired elsewhere: with d down it is at target.
    await chunk('extra', ['a', 'b', 'c', 'd']);
    const pages: string[][] = [];
    const page = jest.spyOn(repository, 'chunkIdsOnNodeAfter');
    // One page of d's replicas per check, in chunk id order, each resuming after the last.
    for (const expected of [onD.slice(0, 5), onD.slice(5, 10), [...onD.slice(10), 'extra']]) {
      const before = page.mock.results.length;
      expect(await check.run()).toMatchObject({ walked: expected.length });
      pages.push(...(await Promise.all(page.mock.results.slice(before).map((r) => r.value as Promise<string[]>))));
    }
    page.mockRestore();
    expect(pages).toEqual([onD.slice(0, 5), onD.slice(5, 10), [...onD.slice(10), 'extra']]);
    expect(await queued()).toEqual(onD);
    // The walk is done: the next check does not read the node again.
    expect(await check.run()).toMatchObject({ queued: 0, walked: 0 });
  });

  it('walks a draining node, and a node that came back (its copies are now surplus)', async () => {
    await nodes({ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd', alive: false });
    await chunk('moved', ['a', 'b', 'c', 'd']);
    await chunk('stays', ['a', 'b', 'c']);
    await waitFor('every node walked', async () => (await check.run()).walked === 0, 5000, 1);
    expect(await queued()).toEqual([]);
    await nodes({ id: 'd' });
    expect(await check.run()).toMatchObject({ queued: 1 });
    expect(await queued()).toEqual(['moved']);

    await queues.replication.obliterate({ force: true });
    await dataSource.query(`DELETE FROM metadata.chunk_replicas WHERE chunk_id = 'moved' AND node_id = 'd'`);
    await nodes({ id: 'c', state: 'draining' });
    expect(await check.run()).toMatchObject({ queued: 2 });
    expect(await queued()).toEqual(['moved', 'stays']);
  });

  it('counts for a node about to stop the chunks of files not purged whose only healthy replica it holds', async () => {
    await nodes({ id: 'x' }, { id: 'y' }, { id: 'z' }, { id: 'gone', alive: false }, { id: 'leaving', state: 'draining' });
    await chunk('on-three', ['x', 'y', 'z']);
    await chunk('only-x', ['x']);
    await chunk('x-and-broken', ['x', 'y:corrupt', 'z:missing']);
    await chunk('x-and-down', ['x', 'gone']);
    await chunk('x-and-draining', ['x', 'leaving']);
    await chunk('trashed-only-x', ['x'], { deleted: true });
    await chunk('broken-on-x', ['x:corrupt']);
    await chunk('only-y', ['y']);
    await chunk('purged-only-x', ['x']);
    const [purged] = await dataSource.query<{ file_id: string }[]>(
      `SELECT file_id FROM metadata.chunks WHERE id = 'purged-only-x'`,
    );
    await dataSource.transaction(async (manager) => {
      await new ChunksRepository(dataSource).detachFromFiles(manager, [purged?.file_id ?? '']);
      await manager.query(`DELETE FROM metadata.files WHERE id = $1`, [purged?.file_id]);
    });
    // An open upload's chunk is no file's yet: repair does not keep it, so it is not waited for.
    await dataSource.query(
      `INSERT INTO metadata.chunks (id, upload_id, "index", size_bytes, sha256) VALUES ('uploading-on-x', $1, 0, 10, 'x')`,
      [randomUUID()],
    );
    await dataSource.query(`INSERT INTO metadata.chunk_replicas (chunk_id, node_id) VALUES ('uploading-on-x', 'x')`);

    expect(await repository.countSoleCopies('x')).toBe(5);
    expect(await repository.countSoleCopies('y')).toBe(1);
    expect(await repository.countSoleCopies('z')).toBe(0);
    // A copy on a node that does not count is still the last copy when no healthy one is elsewhere.
    await chunk('only-leaving', ['leaving']);
    expect(await repository.countSoleCopies('leaving')).toBe(1);
    expect(await repository.countSoleCopies('never-registered')).toBe(0);
  });

  it('marks a draining node drained once it holds no replica', async () => {
    await nodes({ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd', state: 'draining' });
    await chunk('c1', ['a', 'b', 'c']);
    expect(await check.run()).toMatchObject({ drained: ['d'] });
  });
});
