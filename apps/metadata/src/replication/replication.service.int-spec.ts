import { randomBytes, randomUUID } from 'node:crypto';
import { chunkExists, deleteChunk, putChunk, type ReplicaReader, StorageNodeClients } from '@cloudstore/chunk-transfer';
import { type MetadataConfig } from '@cloudstore/config';
import { InternalTransport } from '@cloudstore/grpc';
import { createLogger, Metrics } from '@cloudstore/observability';
import { waitFor } from '@cloudstore/testing';
import { type Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { LockLostError } from '@cloudstore/redis';
import { ChunkLocks } from '../jobs/chunk-locks';
import { NodeRegistryRepository } from '../node-registry/node-registry.repository';
import { ReplicationMetrics } from './replication.metrics';
import { ReplicationRepository } from './replication.repository';
import { ReplicationService } from './replication.service';
import { createMetadataTestStores, type MetadataTestStores } from '../metadata-test-stores.test-helper';

// The storage nodes are the boundary stubbed here: the node receiving the copy is slowed at will.
jest.mock('@cloudstore/chunk-transfer', () => ({
  ...jest.requireActual<object>('@cloudstore/chunk-transfer'),
  putChunk: jest.fn(),
  deleteChunk: jest.fn(),
  chunkExists: jest.fn(),
}));

// Short, so that outliving it four times takes seconds; not so short that a busy machine's
// event-loop stalls let it lapse between renewals (300 ms did, once, under a load average of 30).
const TTL_MS = 1000;
const BYTES = Buffer.from('0123456789');

describe(`${ReplicationService.name} under a chunk lock (real PostgreSQL and Redis, ${TTL_MS} ms lock time to live)`, () => {
  let stores: MetadataTestStores;
  let dataSource: DataSource;
  let redis: Redis;
  let config: MetadataConfig;
  let nodeClients: StorageNodeClients;
  const reader = { read: jest.fn() };
  let sut: ReplicationService;

  beforeAll(async () => {
    stores = await createMetadataTestStores({ REPLICATION_FACTOR: '3' });
    ({ dataSource, config } = stores);
    redis = stores.redis.client;
    // The nodes in this test never answer: no TLS needed.
    nodeClients = new StorageNodeClients(InternalTransport.plaintext());
    sut = new ReplicationService(
      config,
      new ReplicationRepository(dataSource, config),
      new NodeRegistryRepository(dataSource),
      nodeClients,
      reader as unknown as ReplicaReader,
      nodeClients.health,
      new ReplicationMetrics(new Metrics('metadata-test')),
      new ChunkLocks(config, redis, TTL_MS),
      createLogger('repair-test', 'silent'),
    );
    for (const nodeId of ['a', 'b', 'c'])
      await dataSource.query(
        `INSERT INTO metadata.storage_nodes (node_id, address, capacity_bytes) VALUES ($1, $2, 1000000000)`,
        [nodeId, `127.0.0.1:${nodeId.charCodeAt(0)}`],
      );
  });

  afterAll(async () => {
    nodeClients.close();
    await stores.drop();
  });

  /** A chunk of a live file with ok replicas on a and b only: its repair copies it to c. */
  async function underReplicatedChunk(): Promise<string> {
    const chunkId = `chunk-${randomBytes(4).toString('hex')}`;
    const fileId = randomUUID();
    await dataSource.query(
      `INSERT INTO metadata.files (id, public_id, owner_id, filename, size_bytes, sha256, chunk_count, chunk_size)
       VALUES ($1, $1, $2, 'f.bin', 10, 'x', 1, 10)`,
      [fileId, randomUUID()],
    );
    await dataSource.query(`INSERT INTO metadata.chunks (id, file_id, "index", size_bytes, sha256) VALUES ($1, $2, 0, 10, 'x')`, [
      chunkId,
      fileId,
    ]);
    await dataSource.query(`INSERT INTO metadata.chunk_replicas (chunk_id, node_id) VALUES ($1, 'a'), ($1, 'b')`, [chunkId]);
    return chunkId;
  }

  async function replicaNodes(chunkId: string): Promise<string[]> {
    const rows = await dataSource.query<{ node_id: string }[]>(
      `SELECT node_id FROM metadata.chunk_replicas WHERE chunk_id = $1 AND state = 'ok' ORDER BY node_id`,
      [chunkId],
    );
    return rows.map((r) => r.node_id);
  }

  /** Slows every copy sent to a node until the test opens the gate. */
  function slowedNode(): { reached: Promise<void>; open: () => void } {
    let reached!: () => void;
    let open!: () => void;
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    const opened = new Promise<void>((resolve) => (open = resolve));
    jest.mocked(putChunk).mockImplementation(async () => {
      reached();
      await opened;
    });
    return { reached: reachedPromise, open };
  }

  beforeEach(() => {
    reader.read.mockResolvedValue(BYTES);
    jest.mocked(chunkExists).mockResolvedValue(true);
    jest.mocked(deleteChunk).mockResolvedValue(true);
  });

  it('holds the lock while a slowed copy outlives its time to live: a second repair is refused throughout, the first records its copy', async () => {
    const chunkId = await underReplicatedChunk();
    const node = slowedNode();
    const first = sut.repair(chunkId);
    await Promise.race([node.reached, first]);
    const started = Date.now();
    await waitFor(
      'the copy to outlive the lock four times over',
      async () => {
        await expect(sut.repair(chunkId)).rejects.toThrow(/being changed by another job/);
        return Date.now() - started > 4 * TTL_MS;
      },
      20_000,
      25,
    );
    node.open();
    await expect(first).resolves.toMatchObject({ copied: 1, removed: 0 });
    expect(await replicaNodes(chunkId)).toEqual(['a', 'b', 'c']);
  });

  it('records nothing when its lock was taken over while the slowed copy ran', async () => {
    const chunkId = await underReplicatedChunk();
    const node = slowedNode();
    const first = sut.repair(chunkId);
    await Promise.race([node.reached, first]);
    await redis.set(`${config.REDIS_KEY_PREFIX}:lock:chunk:${chunkId}`, 'another-repair', 'PX', 60_000);
    node.open();
    await expect(first).rejects.toBeInstanceOf(LockLostError);
    expect(await replicaNodes(chunkId)).toEqual(['a', 'b']);
    // Nor removed anything: the unrecorded copy may be the new holder's, and is the inventory's to clean.
    expect(deleteChunk).not.toHaveBeenCalled();
  });
});
