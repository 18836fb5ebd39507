import { randomUUID } from 'node:crypto';
import { ReplicaReader, StorageNodeClients } from '@cloudstore/chunk-transfer';
import { type MetadataConfig } from '@cloudstore/config';
import { InternalTransport } from '@cloudstore/grpc';
import { createLogger, Metrics } from '@cloudstore/observability';
import { InMemoryStorageNode, newChunk, newStorageNode } from '@cloudstore/testing';
import type { DataSource } from 'typeorm';
import { ChunkLocks } from '../jobs/chunk-locks';
import { NodeRegistryRepository } from '../node-registry/node-registry.repository';
import { rankNodes } from '../placement/rendezvous-placement';
import { ReplicationMetrics } from './replication.metrics';
import { ReplicationRepository } from './replication.repository';
import { ReplicationService } from './replication.service';
import { createMetadataTestStores, type MetadataTestStores } from '../metadata-test-stores.test-helper';

/** Repair planning against the real database, Redis locks and storage nodes' gRPC API (in memory). */
describe(ReplicationService.name, () => {
  let stores: MetadataTestStores;
  let dataSource: DataSource;
  let config: MetadataConfig;
  let nodeRegistry: NodeRegistryRepository;
  let replicas: ReplicationRepository;
  let clients: StorageNodeClients;
  const nodes = new Map<string, InMemoryStorageNode>();
  let sut: ReplicationService;

  beforeAll(async () => {
    stores = await createMetadataTestStores({ REPLICATION_FACTOR: '3', NODE_DOWN_AFTER_SECONDS: '3600' });
    ({ dataSource, config } = stores);
    nodeRegistry = new NodeRegistryRepository(dataSource);
    replicas = new ReplicationRepository(dataSource, config);
    clients = new StorageNodeClients(InternalTransport.plaintext());
    for (let i = 0; i < 4; i += 1) await addNode();
    sut = new ReplicationService(
      config,
      replicas,
      nodeRegistry,
      clients,
      new ReplicaReader(clients, 5000),
      clients.health,
      new ReplicationMetrics(new Metrics('metadata-test')),
      new ChunkLocks(config, stores.redis.client),
      createLogger('metadata-test', 'silent'),
    );
  });

  afterAll(async () => {
    clients.close();
    for (const node of nodes.values()) await node.stop();
    await stores.drop();
  });

  async function addNode(): Promise<string> {
    const node = await InMemoryStorageNode.start();
    const { nodeId, usage, diskId } = newStorageNode();
    await nodeRegistry.register(nodeId, node.address, usage, diskId);
    nodes.set(nodeId, node);
    return nodeId;
  }

  function node(nodeId: string): InMemoryStorageNode {
    return nodes.get(nodeId) as InMemoryStorageNode;
  }

  /** A chunk of a committed file, stored (in the database and on the nodes) on `on`. */
  async function committedChunk(on: string[]) {
    const chunk = newChunk(2000);
    const fileId = randomUUID();
    await dataSource.query(
      `INSERT INTO metadata.files (id, public_id, owner_id, filename, size_bytes, sha256, chunk_count, chunk_size) VALUES ($1, $1, $2, 'f', 2000, $3, 1, 2000)`,
      [fileId, randomUUID(), chunk.sha256],
    );
    await dataSource.query(`INSERT INTO metadata.chunks (id, file_id, index, size_bytes, sha256) VALUES ($1, $2, 0, 2000, $3)`, [
      chunk.id,
      fileId,
      chunk.sha256,
    ]);
    for (const nodeId of on) {
      await dataSource.query(`INSERT INTO metadata.chunk_replicas (chunk_id, node_id) VALUES ($1, $2)`, [chunk.id, nodeId]);
      node(nodeId).chunks.set(chunk.id, chunk.data);
    }
    return chunk;
  }

  async function replicaStates(chunkId: string): Promise<Record<string, string>> {
    const rows = await dataSource.query<{ node_id: string; state: string }[]>(
      `SELECT node_id, state FROM metadata.chunk_replicas WHERE chunk_id = $1`,
      [chunkId],
    );
    return Object.fromEntries(rows.map((r) => [r.node_id, r.state]));
  }

  /** The live active nodes in the placement's order for this chunk. */
  async function ranking(chunkId: string): Promise<string[]> {
    return rankNodes(chunkId, 2000, await sut.placementNodes()).map((n) => n.nodeId);
  }

  function holders(chunkId: string): string[] {
    return [...nodes].filter(([, n]) => n.chunks.has(chunkId)).map(([id]) => id);
  }

  it('copies an under-replicated chunk to the best-ranked node that lacks it, checked, and then does nothing more', async () => {
    const ranked = await ranking(newChunk(1).id);
    const chunk = await committedChunk([]);
    const order = await ranking(chunk.id);
    const on = order.slice(1, 3);
    await dataSource.query(`INSERT INTO metadata.chunk_replicas (chunk_id, node_id) VALUES ($1, $2), ($1, $3)`, [
      chunk.id,
      ...on,
    ]);
    for (const nodeId of on) node(nodeId).chunks.set(chunk.id, chunk.data);
    expect(ranked).toHaveLength(4);

    expect(await sut.repair(chunk.id)).toEqual({ copied: 1, removed: 0, bytesCopied: 2000 });
    expect(node(order[0]).chunks.get(chunk.id)?.equals(chunk.data)).toBe(true);
    expect(await replicaStates(chunk.id)).toEqual({
      [order[0]]: 'ok',
      [on[0]]: 'ok',
      [on[1]]: 'ok',
    });
    expect(await sut.repair(chunk.id)).toEqual({ copied: 0, removed: 0, bytesCopied: 0 });
  });

  it('rewrites a replica known to be corrupt in place, rather than on another node', async () => {
    const order = await ranking(newChunk(1).id);
    const chunk = await committedChunk(order.slice(0, 3));
    const broken = order[0];
    await replicas.markReplica(chunk.id, broken, 'corrupt');
    node(broken).chunks.set(chunk.id, Buffer.alloc(2000));

    expect(await sut.repair(chunk.id)).toEqual({ copied: 1, removed: 0, bytesCopied: 2000 });
    expect(node(broken).chunks.get(chunk.id)?.equals(chunk.data)).toBe(true);
    expect(await replicaStates(chunk.id)).toEqual(Object.fromEntries(order.slice(0, 3).map((id) => [id, 'ok'])));
    expect(holders(chunk.id)).not.toContain(order[3]);
  });

  it('marks the sources that read corrupt, and copies nothing from them', async () => {
    const order = await ranking(newChunk(1).id);
    const chunk = await committedChunk(order.slice(0, 2));
    for (const nodeId of order.slice(0, 2)) node(nodeId).chunks.set(chunk.id, Buffer.alloc(2000, 7));

    await expect(sut.repair(chunk.id)).rejects.toThrow(/no intact replica/);
    expect(await replicaStates(chunk.id)).toEqual(Object.fromEntries(order.slice(0, 2).map((id) => [id, 'corrupt'])));
    expect(holders(chunk.id).sort()).toEqual(order.slice(0, 2).sort());
  });

  it('removes the surplus replica the placement ranks lowest, from the node and the database', async () => {
    const chunk = await committedChunk([...nodes.keys()].slice(0, 4));
    const order = await ranking(chunk.id);
    expect(await sut.repair(chunk.id)).toEqual({ copied: 0, removed: 1, bytesCopied: 0 });
    const lowest = order[3];
    expect(holders(chunk.id).sort()).toEqual(order.slice(0, 3).sort());
    expect(Object.keys(await replicaStates(chunk.id))).not.toContain(lowest);
  });

  it('moves the replica off a draining node: copied first, removed after', async () => {
    const leaving = await addNode();
    const chunk = await committedChunk([]);
    const order = (await ranking(chunk.id)).filter((id) => id !== leaving);
    const on = [leaving, order[0], order[1]];
    for (const nodeId of on) {
      await dataSource.query(`INSERT INTO metadata.chunk_replicas (chunk_id, node_id) VALUES ($1, $2)`, [chunk.id, nodeId]);
      node(nodeId).chunks.set(chunk.id, chunk.data);
    }
    await nodeRegistry.markDraining(leaving);
    try {
      expect(await sut.repair(chunk.id)).toEqual({ copied: 1, removed: 1, bytesCopied: 2000 });
      expect(holders(chunk.id).sort()).toEqual(order.slice(0, 3).sort());
      expect(await replicas.replicaCountOnNode(leaving)).toBe(0);
    } finally {
      await nodeRegistry.setState(leaving, 'drained');
    }
  });

  it('runs one of two repairs of one chunk at once: one copy is made, the other repair is told to retry', async () => {
    const order = await ranking(newChunk(1).id);
    const chunk = await committedChunk(order.slice(0, 1));
    const writesBefore = [...nodes.values()].reduce((n, s) => n + s.writes.filter((id) => id === chunk.id).length, 0);
    const outcomes = await Promise.allSettled([sut.repair(chunk.id), sut.repair(chunk.id)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({
      reason: expect.objectContaining({ message: expect.stringMatching(/being changed by another job/) }),
    });
    expect(outcomes.find((o) => o.status === 'fulfilled')).toMatchObject({ value: { copied: 2 } });
    const writes = [...nodes.values()].reduce((n, s) => n + s.writes.filter((id) => id === chunk.id).length, 0);
    expect(writes - writesBefore).toBe(2);
    expect(Object.keys(await replicaStates(chunk.id))).toHaveLength(3);
  });

  it('leaves chunks of uploads in progress alone, and records no copy of a purged chunk', async () => {
    const chunk = newChunk(10);
    await dataSource.query(`INSERT INTO metadata.chunks (id, upload_id, index, size_bytes, sha256) VALUES ($1, $2, 0, 10, $3)`, [
      chunk.id,
      randomUUID(),
      chunk.sha256,
    ]);
    expect(await sut.repair(chunk.id)).toEqual({ copied: 0, removed: 0, bytesCopied: 0 });
    expect(await replicas.recordReplica(chunk.id, [...nodes.keys()][0])).toBe(false);
  });

  it('finds the chunks that need work, and counts the under-replicated ones of live files', async () => {
    const order = await ranking(newChunk(1).id);
    const short = await committedChunk(order.slice(0, 2));
    const full = await committedChunk(order.slice(0, 3));
    expect(await replicas.needingWork([short.id, full.id])).toEqual([short.id]);
    const before = await replicas.countUnderReplicated();
    await sut.repair(short.id);
    expect(await replicas.countUnderReplicated()).toBe(before - 1);
    expect(await replicas.needingWork([short.id])).toEqual([]);
  });
});
