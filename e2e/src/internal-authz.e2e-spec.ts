import { encodeChunk, putChunk } from '@cloudstore/chunk-transfer';
import {
  AUTH_SERVICE,
  type authApi,
  FILE_SERVICE,
  type filesApi,
  NODE_REGISTRY_SERVICE,
  type nodeRegistryApi,
  type ProtoService,
  QUOTA_SERVICE,
  STORAGE_NODE_SERVICE,
  type storageNodeApi,
  USER_ADMIN_SERVICE,
} from '@cloudstore/contracts';
import { GrpcServiceClient } from '@cloudstore/grpc';
import { sha256Hex } from '@cloudstore/testing';
import type { ServiceError } from '@grpc/grpc-js';
import { signUp, type TestUser } from './support/accounts';
import { bearer } from './support/api-clients';
import { restUpload } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const ADMIN = { username: 'authz_admin', email: 'authz_admin@example.com', password: 'Admin-Passw0rd-2026!' };

/**
 * Issue 12 item 2 through the real cluster: every internal RPC serves only the services it
 * lists, by the identity of their certificate from the cluster's dev PKI (DATA_DIR/pki), and
 * acts for the user of the access token a call carries, never for the owner a request names.
 */
describe('authorisation inside the cluster: by certificate identity and by verified user (real cluster)', () => {
  const env = TestCluster.perFile({}, { admin: ADMIN });
  const clients: GrpcServiceClient<unknown>[] = [];
  let alice: TestUser;
  let bob: TestUser;
  let bobFileId: string;

  /** A client of `service` at `address` that calls with the certificate of service `name`. */
  async function as<C>(name: string, service: ProtoService, address: string): Promise<GrpcServiceClient<C>> {
    const client = new GrpcServiceClient<C>(service, address, await env.cluster.internalTransport(name), 10_000);
    clients.push(client);
    return client;
  }
  const metadataAddress = () => `127.0.0.1:${env.cluster.ports.metadata}`;
  const authAddress = () => `127.0.0.1:${env.cluster.ports.auth}`;

  async function sql<T extends object>(text: string, values: unknown[] = []): Promise<T[]> {
    return (await env.pg.query<T>(text, values)).rows;
  }

  beforeAll(async () => {
    [alice, bob] = await Promise.all([signUp(env.rest, env.smtp, 'alice'), signUp(env.rest, env.smtp, 'bob')]);
    bobFileId = await restUpload(env.cluster.httpUrl, bob.token, 'bob-secret.txt', Buffer.from('only for bob'));
  });

  afterAll(() => {
    for (const client of clients) client.close();
  });

  /** The node the drain test empties; replicas are read elsewhere so the order of tests does not matter. */
  const DRAINED_NODE = 'node-2';

  /** A replica of Bob's file on a node no test drains: its chunk id and the node that holds it. */
  async function bobsReplica(): Promise<{ chunkId: string; address: string }> {
    const [row] = await sql<{ chunk_id: string; address: string }>(
      `SELECT r.chunk_id, n.address FROM metadata.chunk_replicas r
       JOIN metadata.chunks c ON c.id = r.chunk_id JOIN metadata.storage_nodes n ON n.node_id = r.node_id
       WHERE c.file_id = $1 AND r.node_id <> $2 LIMIT 1`,
      [bobFileId, DRAINED_NODE],
    );
    if (!row) throw new Error('no replica of bob’s file');
    return { chunkId: row.chunk_id, address: row.address };
  }

  /** A server-streaming call's status: the stream's error, or undefined when it ended well. */
  function streamStatus(client: GrpcServiceClient<unknown>, method: string, request: object): Promise<ServiceError | undefined> {
    return new Promise((resolve) => {
      const stream = (client.raw[method] as (r: object, m: object, o: object) => NodeJS.ReadableStream).call(
        client.raw,
        request,
        bearer(alice.token),
        client.callOptions(10_000),
      );
      stream.on('data', () => undefined);
      stream.on('error', (error: ServiceError) => resolve(error));
      stream.on('end', () => resolve(undefined));
    });
  }

  it('refuses a valid service certificate with the wrong identity, and does nothing', async () => {
    const replica = await bobsReplica();
    // A storage node's certificate asks metadata and auth what only the gateway may.
    const nodeToMetadata = await as<filesApi.FileServiceClient>('node-1', FILE_SERVICE, metadataAddress());
    await expect(
      nodeToMetadata.call(
        'listFiles',
        { ownerId: bob.userId, limit: 10, offset: 0, filter: '', after: '' },
        { metadata: bearer(bob.token) },
      ),
    ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    const nodeToAuth = await as<authApi.AuthServiceClient>('node-1', AUTH_SERVICE, authAddress());
    await expect(
      nodeToAuth.call('login', { usernameOrEmail: bob.username, password: bob.password, origin: undefined }),
    ).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });
    const metadataToAdmin = await as<authApi.UserAdminServiceClient>('metadata', USER_ADMIN_SERVICE, authAddress());
    await expect(
      metadataToAdmin.call(
        'listUsers',
        { caller: undefined, limit: 10, offset: 0, filter: '' },
        { metadata: bearer(env.admin.token) },
      ),
    ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });

    // The gateway's certificate may write and read chunks, never stat, list or delete them.
    const gatewayToNode = await as<storageNodeApi.StorageNodeServiceClient>('gateway', STORAGE_NODE_SERVICE, replica.address);
    await expect(gatewayToNode.call('deleteChunk', { chunkId: replica.chunkId })).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });
    await expect(gatewayToNode.call('statChunk', { chunkId: replica.chunkId, computeSha256: false })).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });
    expect((await streamStatus(gatewayToNode as GrpcServiceClient<unknown>, 'listChunks', {}))?.details).toContain(
      'may not call',
    );
    // Nor may one node write to another: the refusal answers the client stream at once.
    const nodeToNode = await as<storageNodeApi.StorageNodeServiceClient>('node-2', STORAGE_NODE_SERVICE, replica.address);
    const bytes = Buffer.from('planted by a node');
    await expect(putChunk(nodeToNode, 'planted-chunk', sha256Hex(bytes), encodeChunk(bytes), 10_000)).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });

    // Metadata may; the chunk is still there, and no planted one.
    const metadataToNode = await as<storageNodeApi.StorageNodeServiceClient>('metadata', STORAGE_NODE_SERVICE, replica.address);
    expect(await metadataToNode.call('statChunk', { chunkId: replica.chunkId, computeSha256: false })).toMatchObject({
      chunkId: replica.chunkId,
    });
    await expect(metadataToNode.call('statChunk', { chunkId: 'planted-chunk', computeSha256: false })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await streamStatus(metadataToNode as GrpcServiceClient<unknown>, 'listChunks', {})).toBeUndefined();
  });

  it('acts for the user of the forwarded token, never for the owner a request names', async () => {
    const files = await as<filesApi.FileServiceClient>('gateway', FILE_SERVICE, metadataAddress());
    const asAlice = { metadata: bearer(alice.token) };
    const bobAsOwner = { userId: bob.userId, role: 'basic', username: bob.username };

    // Without a user's token, or with a made-up one, the gateway's certificate alone gets nothing.
    await expect(
      files.call('listFiles', { ownerId: bob.userId, limit: 10, offset: 0, filter: '', after: '' }),
    ).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    await expect(
      files.call(
        'listFiles',
        { ownerId: bob.userId, limit: 10, offset: 0, filter: '', after: '' },
        { metadata: bearer('e30.e30.c2ln') },
      ),
    ).rejects.toMatchObject({ code: 'TOKEN_INVALID' });

    // Alice's token naming Bob as the owner: Alice's own (empty) view, nothing of Bob's.
    const listed = await files.call('listFiles', { ownerId: bob.userId, limit: 100, offset: 0, filter: '', after: '' }, asAlice);
    expect(listed.files.map((f) => f.fileId)).not.toContain(bobFileId);
    expect(listed.totalCount).toBe(0);
    await expect(files.call('getFile', { ownerId: bob.userId, fileId: bobFileId }, asAlice)).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
    });
    await expect(
      files.call(
        'getDownloadPlan',
        { owner: bobAsOwner, fileId: bobFileId, rangeStart: 0, rangeEnd: -1, origin: undefined, versionId: '' },
        asAlice,
      ),
    ).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    await expect(
      files.call('deleteFile', { ownerId: bob.userId, fileId: bobFileId, origin: undefined }, asAlice),
    ).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
    });
    const quotas = await as<filesApi.QuotaServiceClient>('gateway', QUOTA_SERVICE, metadataAddress());
    expect((await quotas.call('getQuota', { owner: bobAsOwner }, asAlice)).usedBytes).toBe(0);

    // Bob's file is untouched, and Bob's own token still reaches it.
    expect((await files.call('getFile', { ownerId: '', fileId: bobFileId }, { metadata: bearer(bob.token) })).fileId).toBe(
      bobFileId,
    );
    const download = await fetch(`${env.cluster.httpUrl}/v1/files/${bobFileId}/content`, {
      headers: { authorization: `Bearer ${bob.token}` },
    });
    expect(await download.text()).toBe('only for bob');
  });

  it('refuses admin RPCs to a non-admin token even with the gateway certificate, whatever caller the request names', async () => {
    const asAlice = { metadata: bearer(alice.token) };
    const registry = await as<nodeRegistryApi.NodeRegistryServiceClient>('gateway', NODE_REGISTRY_SERVICE, metadataAddress());
    await expect(registry.call('drainNode', { nodeId: 'node-1' }, asAlice)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(registry.call('getClusterStatus', {}, asAlice)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(registry.call('drainNode', { nodeId: 'node-1' })).rejects.toMatchObject({ code: 'TOKEN_INVALID' });

    const admin = await as<authApi.UserAdminServiceClient>('gateway', USER_ADMIN_SERVICE, authAddress());
    // The request's caller field names the admin: it is not read.
    const forgedCaller = {
      userId: env.admin.userId,
      role: 'admin',
      username: ADMIN.username,
      tokenId: 'forged',
      familyId: 'forged',
      issuedAt: 0,
      expiresAt: 0,
      issuedAtMs: 0,
    };
    await expect(
      admin.call('updateUser', { caller: forgedCaller, userId: alice.userId, role: 'admin', origin: undefined }, asAlice),
    ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(
      admin.call('listUsers', { caller: forgedCaller, limit: 10, offset: 0, filter: '' }, asAlice),
    ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    const quotas = await as<filesApi.QuotaServiceClient>('gateway', QUOTA_SERVICE, metadataAddress());
    await expect(quotas.call('setQuota', { userId: alice.userId, quotaBytes: 1, role: '' }, asAlice)).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });

    expect(await sql(`SELECT state FROM metadata.storage_nodes WHERE node_id = 'node-1'`)).toEqual([{ state: 'active' }]);
    expect(await sql('SELECT role FROM auth.users WHERE id = $1', [alice.userId])).toEqual([{ role: 'basic' }]);
    expect(await sql('SELECT 1 FROM metadata.user_quotas WHERE user_id = $1 AND quota_bytes = 1', [alice.userId])).toEqual([]);
  });

  it('lets a node certificate register and send heartbeats only as its own node', async () => {
    const [before] = await sql<{ address: string }>(`SELECT address FROM metadata.storage_nodes WHERE node_id = 'node-2'`);
    const usage = { capacityBytes: 1, usedBytes: 0, chunkCount: 0 };
    for (const caller of ['node-1', 'gateway']) {
      const registry = await as<nodeRegistryApi.NodeRegistryServiceClient>(caller, NODE_REGISTRY_SERVICE, metadataAddress());
      await expect(
        registry.call('registerNode', { nodeId: 'node-2', address: '127.0.0.1:1', usage, diskId: 'stolen' }),
      ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
      await expect(registry.call('heartbeat', { nodeId: 'node-2', usage })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    }
    expect(await sql(`SELECT address FROM metadata.storage_nodes WHERE node_id = 'node-2'`)).toEqual([before]);
  });

  it('audits quota changes and drains with the verified admin as the actor', async () => {
    const quota = await env.rest.patch(`/v1/admin/users/${alice.userId}`, { quota_bytes: 4096 }, env.admin.token);
    expect(quota.status).toBe(200);
    const drain = await env.rest.post(`/v1/admin/nodes/${DRAINED_NODE}/drain`, {}, env.admin.token);
    expect(drain.status).toBe(202);
    const rows = await sql<{
      operation: string;
      user_id: string;
      subject_user_id: string | null;
      details: Record<string, unknown>;
    }>(
      `SELECT operation, user_id, subject_user_id, details FROM metadata.audit_log
       WHERE operation IN ('admin.quota_update', 'admin.node_drain') ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        operation: 'admin.quota_update',
        user_id: env.admin.userId,
        subject_user_id: alice.userId,
        details: { quotaBytes: 4096 },
      },
      { operation: 'admin.node_drain', user_id: env.admin.userId, subject_user_id: null, details: { nodeId: DRAINED_NODE } },
    ]);
  });
});
