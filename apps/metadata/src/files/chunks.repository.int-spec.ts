import { randomUUID } from 'node:crypto';
import { createTestDataSource, newChunk, newStorageNode, type TestDataSource } from '@cloudstore/testing';
import type { DataSource } from 'typeorm';
import { createMetadataDataSource, METADATA_SCHEMA } from '../database/metadata-data-source';
import { NodeRegistryRepository } from '../node-registry/node-registry.repository';
import { ChunksRepository } from './chunks.repository';
import { FilesRepository } from './files.repository';

const DOWN_AFTER = 15;

describe(ChunksRepository.name, () => {
  let db: TestDataSource;
  let dataSource: DataSource;
  let nodes: NodeRegistryRepository;
  let files: FilesRepository;
  let sut: ChunksRepository;

  beforeAll(async () => {
    db = await createTestDataSource(createMetadataDataSource, METADATA_SCHEMA);
    dataSource = db.dataSource;
    nodes = new NodeRegistryRepository(dataSource);
    files = new FilesRepository(dataSource);
    sut = new ChunksRepository(dataSource);
  });

  afterAll(async () => {
    await db.drop();
  });

  async function registerNodes(count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const node = newStorageNode();
      await nodes.register(node.nodeId, node.address, node.usage, node.diskId);
      ids.push(node.nodeId);
    }
    return ids.sort();
  }

  /** An upload's chunks, recorded as PrepareChunk does, each stored on `on`. */
  async function uploadChunks(count: number, on: string[], size = 10): Promise<{ uploadId: string; chunkIds: string[] }> {
    const uploadId = randomUUID();
    const chunkIds: string[] = [];
    await dataSource.transaction(async (manager) => {
      for (let index = 0; index < count; index += 1) {
        const chunk = newChunk(size);
        await sut.insertPending(manager, {
          id: chunk.id,
          uploadId,
          index,
          sizeBytes: size,
          sha256: chunk.sha256,
          plannedNodeIds: on,
        });
        chunkIds.push(chunk.id);
      }
      await sut.recordStored(
        manager,
        uploadId,
        chunkIds.map((chunkId) => ({ chunkId, nodeIds: on })),
      );
    });
    return { uploadId, chunkIds };
  }

  async function commit(uploadId: string, chunkCount: number, chunkSize = 10): Promise<string> {
    const fileId = randomUUID();
    await dataSource.transaction(async (manager) => {
      await files.insert(manager, {
        id: fileId,
        publicId: fileId,
        ownerId: randomUUID(),
        filename: 'f.bin',
        sizeBytes: chunkCount * chunkSize,
        sha256: newChunk(1).sha256,
        contentType: 'application/octet-stream',
        chunkCount,
        chunkSize,
        chunkOverhead: 0,
        wrappedDataKey: null,
        masterKeyId: null,
        wrappedByUserKey: false,
      });
      await sut.attachToFile(manager, uploadId, fileId);
    });
    return fileId;
  }

  it("summarises an upload's chunks with their good replicas, in order, until they belong to a file", async () => {
    const [a, b] = await registerNodes(2);
    const { uploadId, chunkIds } = await uploadChunks(3, [a, b]);
    await sut.markReplica(chunkIds[1], a, 'corrupt');
    expect(await sut.summaryOfUpload(dataSource.manager, uploadId)).toEqual([
      { index: 0, size_bytes: '10', replicas: '2' },
      { index: 1, size_bytes: '10', replicas: '1' },
      { index: 2, size_bytes: '10', replicas: '2' },
    ]);
    // Recording a replica again is an upsert: the corrupt one is good again.
    expect(await sut.recordStored(dataSource.manager, uploadId, [{ chunkId: chunkIds[1], nodeIds: [a, a] }])).toBe(true);
    expect((await sut.summaryOfUpload(dataSource.manager, uploadId))[1]?.replicas).toBe('2');
    // Only the upload's own chunks, on the nodes planned for them.
    expect(await sut.recordStored(dataSource.manager, randomUUID(), [{ chunkId: chunkIds[0], nodeIds: [a] }])).toBe(false);
    expect(await sut.recordStored(dataSource.manager, uploadId, [{ chunkId: chunkIds[0], nodeIds: [a, 'node-unplanned'] }])).toBe(
      false,
    );

    const fileId = await commit(uploadId, 3);
    expect(await sut.summaryOfUpload(dataSource.manager, uploadId)).toEqual([]);
    expect(await sut.nodesOfFile(fileId)).toEqual([a, b]);
    expect(await sut.uncommittedOfUpload(uploadId)).toEqual([]);
  });

  it('gives the chunks of a byte range, good replicas on live nodes first, rotating where consecutive chunks start', async () => {
    const [a, b, c] = (await registerNodes(3)) as [string, string, string];
    const { uploadId, chunkIds } = await uploadChunks(4, [a, b, c]);
    const fileId = await commit(uploadId, 4);
    await sut.markReplica(chunkIds[2], a, 'missing');
    await dataSource.query(`UPDATE metadata.storage_nodes SET last_heartbeat_at = now() - interval '1 hour' WHERE node_id = $1`, [
      b,
    ]);

    // Bytes 15..35 are chunks 1..3 of 10 bytes.
    const chunks = await sut.inRange(fileId, 10, 15, 35, DOWN_AFTER);
    expect(chunks.map((ch) => ch.index)).toEqual([1, 2, 3]);
    const order = chunks.map((ch) =>
      ch.replicas.map((r) => `${r.nodeId === a ? 'a' : r.nodeId === b ? 'b' : 'c'}:${r.state}:${r.alive}`),
    );
    expect(order).toEqual([
      ['c:ok:true', 'a:ok:true', 'b:ok:false'],
      ['c:ok:true', 'b:ok:false', 'a:missing:true'],
      ['c:ok:true', 'a:ok:true', 'b:ok:false'],
    ]);
  });

  it("cuts a purged file's chunks loose and forgets them node by node, the row last", async () => {
    const [a, b] = (await registerNodes(2)) as [string, string];
    const { uploadId, chunkIds } = await uploadChunks(2, [a, b]);
    const fileId = await commit(uploadId, 2);
    await dataSource.transaction((m) => sut.detachFromFiles(m, [fileId]));
    const [first, second] = chunkIds as [string, string];
    expect(await sut.orphanIds('', 1000)).toEqual(expect.arrayContaining(chunkIds));
    expect((await sut.nodesOfOrphan(first))?.sort()).toEqual([a, b]);

    await sut.forgetNodes(first, [b]);
    expect(await sut.nodesOfOrphan(first)).toEqual([b]);
    await sut.forgetNodes(first, []);
    expect(await sut.nodesOfOrphan(first)).toBeUndefined();
    expect(await sut.orphanIds('', 1000)).not.toContain(first);
    expect(await sut.orphanIds('', 1000)).toContain(second);
  });

  it('marks a replica only where there is one', async () => {
    const [a] = (await registerNodes(1)) as [string];
    const { chunkIds } = await uploadChunks(1, [a]);
    expect(await sut.markReplica(chunkIds[0], a, 'corrupt')).toBe(true);
    expect(await sut.markReplica(chunkIds[0], 'no-such-node', 'corrupt')).toBe(false);
  });
});
