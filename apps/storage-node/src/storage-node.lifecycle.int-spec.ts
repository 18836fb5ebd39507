import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { loadConfig, type StorageNodeConfig, storageNodeConfigSchema } from '@cloudstore/config';
import { STORAGE_NODE_SERVICE, type storageNodeApi } from '@cloudstore/contracts';
import { GrpcServiceClient, type RunningService } from '@cloudstore/grpc';
import { createLogger } from '@cloudstore/observability';
import { createTestPki, findFreePortRange, putChunkInFlight, standaloneNodeEnv, type TestPki } from '@cloudstore/testing';
import { startStorageNode } from './storage-node.bootstrap';
import { nodeDataDir } from './storage-node.module';

const NODE_ID = 'node-life';

describe('a storage node that is told to stop', () => {
  let pki: TestPki;
  let dataDir: string;
  let config: StorageNodeConfig;
  let node: RunningService | undefined;
  let client: GrpcServiceClient<storageNodeApi.StorageNodeServiceClient>;

  beforeAll(async () => {
    pki = await createTestPki([NODE_ID, 'gateway']);
  });

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cloudstore-node-life-'));
    config = loadConfig(storageNodeConfigSchema, standaloneNodeEnv(pki, NODE_ID, dataDir, await findFreePortRange(2)));
    node = await startStorageNode(config, createLogger('node-test', 'silent'), await pki.transport(NODE_ID));
    client = new GrpcServiceClient(STORAGE_NODE_SERVICE, config.STORAGE_NODE_ADDRESS, await pki.transport('gateway'));
  });

  afterEach(async () => {
    client.close();
    await node?.stop(0);
    node = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  afterAll(() => pki.remove());

  const probe = (path: string) => fetch(`http://127.0.0.1:${config.METRICS_PORT}${path}`);
  const tmpFiles = () => readdir(join(nodeDataDir(config), 'tmp'));
  const storedSize = (chunkId: string) =>
    stat(join(nodeDataDir(config), 'chunks', chunkId.slice(0, 2), chunkId)).then(
      (s) => s.size,
      () => undefined,
    );

  it('is not ready from the start of the stop, stays live, and lets a PutChunk under way finish', async () => {
    expect((await probe('/readyz')).status).toBe(200);
    const put = await putChunkInFlight(client, nodeDataDir(config), 256 * 1024);

    const stopping = node?.stop();
    const readyz = await probe('/readyz');
    expect(readyz.status).toBe(503);
    expect(await readyz.json()).toEqual({
      status: 'not_ready',
      failed: [],
      stopping: true,
      checks: { disk: { status: 'up' } },
    });
    const healthz = await probe('/healthz');
    expect(healthz.status).toBe(200);
    expect(await healthz.text()).toBe('ok\n');

    put.finish();
    const { chunk } = put;
    expect(await put.result).toEqual({ chunkId: chunk.id, size: chunk.sizeBytes, sha256: chunk.sha256 });
    await stopping;
    node = undefined;
    expect(await storedSize(chunk.id)).toBe(chunk.sizeBytes);
    expect(await tmpFiles()).toEqual([]);
  });

  it('cancels a PutChunk still open when the drain time is up, and keeps nothing of it', async () => {
    const put = await putChunkInFlight(client, nodeDataDir(config), 256 * 1024);

    await node?.stop(200);
    node = undefined;
    await expect(put.result).rejects.toMatchObject({ code: GrpcStatus.CANCELLED });
    expect(await tmpFiles()).toEqual([]);
    expect(await storedSize(put.chunk.id)).toBeUndefined();
  });
});
