import { createTestDataSource, newChunk, newStorageNode, type TestDataSource } from '@cloudstore/testing';
import type { DataSource } from 'typeorm';
import { createMetadataDataSource, METADATA_SCHEMA } from '../database/metadata-data-source';
import { NodeRegistryRepository } from './node-registry.repository';

const DOWN_AFTER = 15;

describe(NodeRegistryRepository.name, () => {
  let db: TestDataSource;
  let dataSource: DataSource;
  let sut: NodeRegistryRepository;

  beforeAll(async () => {
    db = await createTestDataSource(createMetadataDataSource, METADATA_SCHEMA);
    dataSource = db.dataSource;
    sut = new NodeRegistryRepository(dataSource);
  });

  afterAll(async () => {
    await db.drop();
  });

  async function liveness(nodeId: string) {
    return (await sut.listWithLiveness(DOWN_AFTER)).find((n) => n.nodeId === nodeId);
  }

  async function withReplicas(nodeId: string, count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      const chunk = newChunk(1);
      await dataSource.query(`INSERT INTO metadata.chunks (id, index, size_bytes, sha256) VALUES ($1, 0, 1, $2)`, [
        chunk.id,
        chunk.sha256,
      ]);
      await dataSource.query(`INSERT INTO metadata.chunk_replicas (chunk_id, node_id) VALUES ($1, $2)`, [chunk.id, nodeId]);
    }
  }

  it('registers a node, then takes a registration again as an update', async () => {
    const node = newStorageNode();
    expect(await sut.register(node.nodeId, node.address, node.usage, node.diskId)).toBe(0);
    expect(await sut.register(node.nodeId, '10.0.0.9:7000', { ...node.usage, usedBytes: 42 }, node.diskId)).toBe(0);
    expect(await liveness(node.nodeId)).toMatchObject({ address: '10.0.0.9:7000', usedBytes: 42, state: 'active', alive: true });
  });

  it('marks every good replica of a node that comes back with another disk missing, and no other', async () => {
    const node = newStorageNode();
    const other = newStorageNode();
    await sut.register(node.nodeId, node.address, node.usage, node.diskId);
    await sut.register(other.nodeId, other.address, other.usage, other.diskId);
    await withReplicas(node.nodeId, 3);
    await withReplicas(other.nodeId, 2);
    expect(await sut.register(node.nodeId, node.address, node.usage, 'another-disk')).toBe(3);
    const states = await dataSource.query<{ node_id: string; state: string }[]>(
      `SELECT node_id, state FROM metadata.chunk_replicas WHERE node_id = ANY($1) ORDER BY node_id, state`,
      [[node.nodeId, other.nodeId]],
    );
    expect(states.filter((r) => r.node_id === node.nodeId).map((r) => r.state)).toEqual(['missing', 'missing', 'missing']);
    expect(states.filter((r) => r.node_id === other.nodeId).map((r) => r.state)).toEqual(['ok', 'ok']);
  });

  it('judges liveness by the last heartbeat, on the database clock', async () => {
    const node = newStorageNode();
    await sut.register(node.nodeId, node.address, node.usage, node.diskId);
    await dataSource.query(
      `UPDATE metadata.storage_nodes SET last_heartbeat_at = now() - interval '16 seconds' WHERE node_id = $1`,
      [node.nodeId],
    );
    expect((await liveness(node.nodeId))?.alive).toBe(false);
    expect(await sut.touch(node.nodeId, { ...node.usage, chunkCount: 7 })).toBe(true);
    expect(await liveness(node.nodeId)).toMatchObject({ alive: true, chunkCount: 7 });
    expect(await sut.touch('never-registered', node.usage)).toBe(false);
  });

  it('drains an active node once; an unknown node cannot be drained', async () => {
    const node = newStorageNode();
    await sut.register(node.nodeId, node.address, node.usage, node.diskId);
    expect(await sut.markDraining(node.nodeId)).toBe(true);
    await sut.setState(node.nodeId, 'drained');
    expect(await sut.markDraining(node.nodeId)).toBe(true);
    expect((await sut.find(node.nodeId))?.state).toBe('drained');
    expect(await sut.markDraining('never-registered')).toBe(false);
  });
});
