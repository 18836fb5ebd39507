import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STORAGE_NODE_SERVICE, type storageNodeApi } from '@cloudstore/contracts';
import { GrpcServiceClient } from '@cloudstore/grpc';
import {
  createTestPki,
  findFreePortRange,
  putChunkInFlight,
  standaloneNodeEnv,
  type TestPki,
  waitFor,
} from '@cloudstore/testing';
import { ServiceProcess } from './support/service-process';

const NODE_ID = 'node-stop';

describe('a storage node process told to stop (SIGTERM), as Kubernetes stops a pod', () => {
  let pki: TestPki;
  let dataDir: string;
  let node: ServiceProcess | undefined;
  let client: GrpcServiceClient<storageNodeApi.StorageNodeServiceClient> | undefined;

  beforeAll(async () => {
    pki = await createTestPki([NODE_ID, 'gateway']);
    dataDir = await mkdtemp(join(tmpdir(), 'cloudstore-stop-e2e-'));
  });

  afterAll(async () => {
    client?.close();
    await node?.stop();
    await rm(dataDir, { recursive: true, force: true });
    await pki.remove();
  });

  it('turns /readyz 503 at once, stays live, lets the PutChunk under way finish, and exits 0', async () => {
    const port = await findFreePortRange(2);
    const probes = `http://127.0.0.1:${port + 1}`;
    node = new ServiceProcess('storage-node', standaloneNodeEnv(pki, NODE_ID, dataDir, port));
    await waitFor('the node ready', async () => (await fetch(`${probes}/readyz`)).status === 200, 15_000, 50);

    client = new GrpcServiceClient(STORAGE_NODE_SERVICE, `127.0.0.1:${port}`, await pki.transport('gateway'));
    const nodeDir = join(dataDir, 'nodes', NODE_ID);
    const put = await putChunkInFlight(client, nodeDir);

    node.signal('SIGTERM');
    const readyz = await waitFor(
      '/readyz to turn 503',
      async () => {
        const res = await fetch(`${probes}/readyz`);
        return res.status === 503 && ((await res.json()) as { stopping?: boolean });
      },
      5_000,
      10,
    );
    expect(readyz).toMatchObject({ status: 'not_ready', stopping: true });
    const healthz = await fetch(`${probes}/healthz`);
    expect([healthz.status, await healthz.text()]).toEqual([200, 'ok\n']);

    put.finish();
    const { chunk } = put;
    expect(await put.result).toEqual({ chunkId: chunk.id, size: chunk.sizeBytes, sha256: chunk.sha256 });
    expect(await node.exited).toBe(0);
    expect((await stat(join(nodeDir, 'chunks', chunk.id.slice(0, 2), chunk.id))).size).toBe(chunk.sizeBytes);
    expect(await readdir(join(nodeDir, 'tmp'))).toEqual([]);
  });
});
