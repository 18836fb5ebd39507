import { randomBytes } from 'node:crypto';
import { loadConfig, metadataConfigSchema } from '@cloudstore/config';
import { NODE_REGISTRY_SERVICE, type nodeRegistryApi } from '@cloudstore/contracts';
import { checkGrpcHealth, GrpcServiceClient, type InternalTransport, type RunningService } from '@cloudstore/grpc';
import { MasterKeyring, masterKey } from '@cloudstore/master-key';
import { createLogger } from '@cloudstore/observability';
import { createTestDatabase, createTestPki, findFreePortRange, type TestDatabase, type TestPki } from '@cloudstore/testing';
import { Client } from 'pg';
import { startMetadataService } from '../metadata.bootstrap';

const usage = { capacityBytes: 1_000_000, usedBytes: 1000, chunkCount: 3 };
const diskId = 'disk-1';
const NODES = ['node-a', 'node-b', 'node-c', 'node-d', 'node-e', 'node-f', 'node-g', 'node-h', 'never-registered'];

describe('node registry (metadata service over gRPC, real PostgreSQL)', () => {
  let db: TestDatabase;
  let service: RunningService;
  let client: GrpcServiceClient<nodeRegistryApi.NodeRegistryServiceClient>;
  let address: string;
  let pki: TestPki;
  let gateway: InternalTransport;

  beforeAll(async () => {
    db = await createTestDatabase();
    pki = await createTestPki(['metadata', 'gateway', ...NODES]);
    gateway = await pki.transport('gateway');
    const port = await findFreePortRange(1);
    address = `127.0.0.1:${port}`;
    const config = loadConfig(metadataConfigSchema, {
      DATABASE_URL: db.url,
      METADATA_PORT: String(port),
      NODE_DOWN_AFTER_SECONDS: '15',
      HEARTBEAT_INTERVAL_SECONDS: '3',
      ...pki.env('metadata'),
    });
    service = await startMetadataService(
      config,
      createLogger('metadata-test', 'silent'),
      await pki.transport('metadata'),
      new MasterKeyring(masterKey(randomBytes(32))),
    );
    client = new GrpcServiceClient(NODE_REGISTRY_SERVICE, address, gateway);
  });

  /** A client that calls as storage node `nodeId`, with its certificate. */
  const nodeClients = new Map<string, GrpcServiceClient<nodeRegistryApi.NodeRegistryServiceClient>>();
  async function as(nodeId: string): Promise<GrpcServiceClient<nodeRegistryApi.NodeRegistryServiceClient>> {
    let found = nodeClients.get(nodeId);
    if (!found) {
      found = new GrpcServiceClient(NODE_REGISTRY_SERVICE, address, await pki.transport(nodeId));
      nodeClients.set(nodeId, found);
    }
    return found;
  }

  afterAll(async () => {
    client.close();
    for (const c of nodeClients.values()) c.close();
    await service.stop();
    await db.drop();
    await pki.remove();
  });

  async function sql<T extends object>(text: string, values: unknown[] = []): Promise<T[]> {
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      return (await pg.query<T>(text, values)).rows;
    } finally {
      await pg.end();
    }
  }

  async function ageHeartbeat(nodeId: string, seconds: number): Promise<void> {
    await sql(`UPDATE metadata.storage_nodes SET last_heartbeat_at = now() - make_interval(secs => $2) WHERE node_id = $1`, [
      nodeId,
      seconds,
    ]);
  }

  async function replicaStates(nodeId: string): Promise<string[]> {
    const rows = await sql<{ state: string }>(`SELECT state FROM metadata.chunk_replicas WHERE node_id = $1 ORDER BY chunk_id`, [
      nodeId,
    ]);
    return rows.map((r) => r.state);
  }

  it('answers grpc.health.v1 SERVING once its database is reachable', async () => {
    expect(await checkGrpcHealth(address, gateway)).toBe('SERVING');
    expect(await checkGrpcHealth(address, gateway, 'dependency/postgres')).toBe('SERVING');
  });

  it('registers a node and tells it how often to send heartbeats', async () => {
    const response = await (
      await as('node-a')
    ).call('registerNode', { nodeId: 'node-a', address: '127.0.0.1:7001', usage, diskId });
    expect(response.heartbeatIntervalSeconds).toBe(3);
    const { nodes } = await client.call('listNodes', {});
    expect(nodes.filter((n) => n.nodeId === 'node-a')).toEqual([
      expect.objectContaining({
        nodeId: 'node-a',
        address: '127.0.0.1:7001',
        status: 'up',
        capacityBytes: 1_000_000,
        usedBytes: 1000,
        chunkCount: 3,
      }),
    ]);
  });

  it('marks a node down when its heartbeats stop, and up again with the next one', async () => {
    await (await as('node-b')).call('registerNode', { nodeId: 'node-b', address: '127.0.0.1:7002', usage, diskId });
    await ageHeartbeat('node-b', 16);
    let node = (await client.call('listNodes', {})).nodes.find((n) => n.nodeId === 'node-b');
    expect(node?.status).toBe('down');

    const heartbeat = await (await as('node-b')).call('heartbeat', { nodeId: 'node-b', usage: { ...usage, usedBytes: 5000 } });
    expect(heartbeat.known).toBe(true);
    node = (await client.call('listNodes', {})).nodes.find((n) => n.nodeId === 'node-b');
    expect(node).toMatchObject({ status: 'up', usedBytes: 5000 });
    expect(node?.lastHeartbeat).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 5);
  });

  it('keeps a node up within the window', async () => {
    await (await as('node-c')).call('registerNode', { nodeId: 'node-c', address: '127.0.0.1:7003', usage, diskId });
    await ageHeartbeat('node-c', 10);
    const node = (await client.call('listNodes', {})).nodes.find((n) => n.nodeId === 'node-c');
    expect(node?.status).toBe('up');
  });

  it('tells an unknown node to register again', async () => {
    expect((await (await as('never-registered')).call('heartbeat', { nodeId: 'never-registered', usage })).known).toBe(false);
  });

  it('takes a re-registration as an update of address and usage', async () => {
    await (await as('node-d')).call('registerNode', { nodeId: 'node-d', address: '127.0.0.1:7004', usage, diskId });
    await (
      await as('node-d')
    ).call('registerNode', { nodeId: 'node-d', address: '10.0.0.4:7004', usage: { ...usage, chunkCount: 9 }, diskId });
    const matching = (await client.call('listNodes', {})).nodes.filter((n) => n.nodeId === 'node-d');
    expect(matching).toEqual([expect.objectContaining({ address: '10.0.0.4:7004', chunkCount: 9 })]);
    // Joining is audited once, by the node's first registration.
    expect(
      await sql(`SELECT details FROM metadata.audit_log WHERE operation = 'node.join' AND details->>'nodeId' = 'node-d'`),
    ).toEqual([{ details: { nodeId: 'node-d', address: '127.0.0.1:7004' } }]);
  });

  it.each([
    [{ nodeId: 'node-e', address: 'no-port', usage, diskId }, 'INVALID_ARGUMENT'],
    [{ nodeId: 'node-e', address: '127.0.0.1:1', usage: { ...usage, usedBytes: -1 }, diskId }, 'INVALID_ARGUMENT'],
  ])('refuses a bad registration %j with %s', async (request, code) => {
    await expect((await as('node-e')).call('registerNode', request)).rejects.toMatchObject({ code });
  });

  it('lets a node register, heartbeat and ask about its sole copies only as the node its certificate names', async () => {
    const request = { address: '127.0.0.1:7009', usage, diskId };
    for (const [caller, nodeId] of [
      ['node-a', 'node-z'],
      ['node-a', '../etc'],
      ['gateway', 'node-a'],
      ['metadata', 'node-a'],
    ] as const) {
      const sut =
        caller === 'node-a'
          ? await as(caller)
          : new GrpcServiceClient(NODE_REGISTRY_SERVICE, address, await pki.transport(caller));
      await expect(sut.call('registerNode', { ...request, nodeId })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
      await expect(sut.call('heartbeat', { nodeId, usage })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
      await expect(sut.call('getSoleCopies', { nodeId })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
      if (sut !== (await as('node-a'))) sut.close();
    }
    expect((await client.call('listNodes', {})).nodes.map((n) => n.nodeId)).not.toContain('node-z');
    expect(await sql(`SELECT 1 FROM metadata.audit_log WHERE details->>'nodeId' = 'node-z'`)).toEqual([]);
  });

  it('tells a node about to stop how many chunks of files only it holds a healthy copy of', async () => {
    for (const nodeId of ['node-g', 'node-h']) {
      await (await as(nodeId)).call('registerNode', { nodeId, address: '127.0.0.1:7007', usage, diskId });
    }
    await sql(
      `WITH f AS (
         INSERT INTO metadata.files (id, public_id, owner_id, filename, size_bytes, sha256, chunk_count, chunk_size)
         VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'g.bin', 2, 'x', 2, 1) RETURNING id)
       INSERT INTO metadata.chunks (id, file_id, index, size_bytes, sha256)
       SELECT v.id, f.id, v.i, 1, 'x' FROM f, (VALUES ('chunk-g-1', 0), ('chunk-gh-2', 1)) AS v(id, i);
       INSERT INTO metadata.chunk_replicas (chunk_id, node_id)
       VALUES ('chunk-g-1', 'node-g'), ('chunk-gh-2', 'node-g'), ('chunk-gh-2', 'node-h')`,
    );
    expect(await (await as('node-g')).call('getSoleCopies', { nodeId: 'node-g' })).toEqual({ soleCopies: 1 });
    expect(await (await as('node-h')).call('getSoleCopies', { nodeId: 'node-h' })).toEqual({ soleCopies: 0 });
  });

  it('stops counting the replicas of a node that comes back with another disk, at once', async () => {
    await (await as('node-f')).call('registerNode', { nodeId: 'node-f', address: '127.0.0.1:7006', usage, diskId: 'disk-f1' });
    await sql(
      `INSERT INTO metadata.chunks (id, index, size_bytes, sha256) VALUES ('chunk-f-1', 0, 1, 'x'), ('chunk-f-2', 1, 1, 'x');
       INSERT INTO metadata.chunk_replicas (chunk_id, node_id) VALUES ('chunk-f-1', 'node-f'), ('chunk-f-2', 'node-f')`,
    );
    // A restart on the same disk keeps them; the node's inventory check looks at each.
    await (await as('node-f')).call('registerNode', { nodeId: 'node-f', address: '127.0.0.1:7006', usage, diskId: 'disk-f1' });
    expect(await replicaStates('node-f')).toEqual(['ok', 'ok']);

    await (await as('node-f')).call('registerNode', { nodeId: 'node-f', address: '127.0.0.1:7006', usage, diskId: 'disk-f2' });
    expect(await replicaStates('node-f')).toEqual(['missing', 'missing']);
    const [node] = await sql<{ disk_id: string }>(`SELECT disk_id FROM metadata.storage_nodes WHERE node_id = 'node-f'`);
    expect(node?.disk_id).toBe('disk-f2');
  });
});
