import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Module } from '@nestjs/common';
import { Metadata, type sendUnaryData, type ServerReadableStream, status as GrpcStatus } from '@grpc/grpc-js';
import type { Caller } from '@cloudstore/access-tokens';
import {
  NODE_REGISTRY_SERVICE,
  nodeRegistryApi,
  STORAGE_NODE_SERVICE,
  storageNodeApi,
  TokenExpiredError,
  TokenInvalidError,
} from '@cloudstore/contracts';
import { createLogger, HealthMonitor, Metrics, runWithRequestId, setRequestAccessToken } from '@cloudstore/observability';
import { GrpcServiceClient } from './grpc-client';
import { CONTROL_MESSAGE_MAX_BYTES } from './grpc-server';
import { type RunningService, startGrpcService } from './grpc-service-runner';
import { AllowedCallers, ForUser, serviceKindOf, type UserTokenVerifier, verifiedUser } from './internal-authz';
import { ClientStreamCall } from './stream-call';
import { clusterPkiFiles, ensureClusterPki } from './tls/cluster-pki';
import { InternalTransport, loadInternalTransport, serviceIdentity } from './tls/internal-transport';

/** A port the OS says is free now (libs/testing, which has a finder, depends on this lib). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const user = (userId: string, role: string): Caller => ({
  userId,
  username: userId,
  role,
  tokenId: `t-${userId}`,
  familyId: `f-${userId}`,
  issuedAt: 0,
  expiresAt: 0,
  issuedAtMs: 0,
});

/** The boundary the guard calls: tokens are user names here; `expired` only with continuation. */
const userTokens: UserTokenVerifier = {
  verify: (token, options) => {
    if (token === 'alice') return Promise.resolve(user('alice', 'basic'));
    if (token === 'root') return Promise.resolve(user('root', 'admin'));
    if (token === 'expired') {
      return options?.continuation ? Promise.resolve(user('late', 'basic')) : Promise.reject(new TokenExpiredError());
    }
    return Promise.reject(new TokenInvalidError());
  },
};

/** NodeRegistryService's shape, with a rule of each kind on its methods. */
@Controller()
@nodeRegistryApi.NodeRegistryServiceControllerMethods()
class RulesController implements nodeRegistryApi.NodeRegistryServiceController {
  @AllowedCallers('storage-node')
  heartbeat(): nodeRegistryApi.HeartbeatResponse {
    return { known: true };
  }

  /** Names the user it acts for in its answer. */
  @AllowedCallers('gateway')
  @ForUser({ continuation: true })
  registerNode(_request: nodeRegistryApi.RegisterNodeRequest, metadata?: Metadata): nodeRegistryApi.RegisterNodeResponse {
    return { heartbeatIntervalSeconds: verifiedUser(metadata).userId.length };
  }

  @AllowedCallers('gateway', 'metadata')
  @ForUser({ role: 'admin' })
  drainNode(request: nodeRegistryApi.DrainNodeRequest, metadata?: Metadata): nodeRegistryApi.NodeInfo {
    return { ...emptyNode, nodeId: `${request.nodeId} by ${verifiedUser(metadata).userId}` };
  }

  @AllowedCallers('gateway')
  @ForUser()
  getClusterStatus(): nodeRegistryApi.ClusterStatus {
    return { nodes: [], underReplicatedChunks: 0, jobs: undefined, replicationFactor: 3 };
  }

  @AllowedCallers('storage-node')
  getSoleCopies(): nodeRegistryApi.SoleCopies {
    return { soleCopies: 0 };
  }

  /** Declares no callers: nobody may call it. */
  listNodes(): nodeRegistryApi.ListNodesResponse {
    return { nodes: [] };
  }
}

const emptyNode: nodeRegistryApi.NodeInfo = {
  nodeId: '',
  address: '',
  status: '',
  capacityBytes: 0,
  usedBytes: 0,
  chunkCount: 0,
  lastHeartbeat: 0,
  registeredAt: 0,
  state: '',
};

/** A client-streaming pass-through handler, as the storage node's PutChunk. */
@Controller()
@ClientStreamCall<storageNodeApi.StorageNodeServiceController>(STORAGE_NODE_SERVICE.serviceName, 'putChunk')
class StreamController {
  @AllowedCallers('metadata')
  putChunk(call: ServerReadableStream<unknown, unknown>, callback: sendUnaryData<storageNodeApi.PutChunkResponse>): void {
    // Says whether a user's token came along: it must not, to a storage node.
    const chunkId = call.metadata.get('authorization').length > 0 ? 'stored, with a token' : 'stored';
    callback(null, { chunkId, size: 0, sha256: '' });
  }
}

@Module({ controllers: [RulesController, StreamController] })
class RulesModule {}

describe('InternalCallGuard', () => {
  let pkiDir: string;
  const running: RunningService[] = [];
  const clients: GrpcServiceClient<unknown>[] = [];

  beforeAll(async () => {
    pkiDir = await mkdtemp(join(tmpdir(), 'authz-spec-'));
    await ensureClusterPki(pkiDir, ['gateway', 'metadata', 'auth', 'node-7', 'server']);
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    for (const service of running) await service.stop();
    await rm(pkiDir, { recursive: true, force: true });
  });

  async function serve(transport: InternalTransport): Promise<string> {
    const logger = createLogger('authz-spec', 'silent');
    const port = await freePort();
    const services = [NODE_REGISTRY_SERVICE, STORAGE_NODE_SERVICE];
    running.push(
      await startGrpcService({
        module: { module: RulesModule },
        services,
        port,
        host: '127.0.0.1',
        transport,
        maxReceiveMessageBytes: CONTROL_MESSAGE_MAX_BYTES,
        userTokens: () => userTokens,
        health: new HealthMonitor(
          services.map((s) => s.serviceName),
          [],
          logger,
        ),
        logger,
        metrics: new Metrics('authz-spec'),
        metricsPort: 0,
      }),
    );
    return `127.0.0.1:${port}`;
  }

  const transportOf = (name: string) =>
    loadInternalTransport({ INTERNAL_TLS: 'on', ...clusterPkiFiles(pkiDir, name) }, () => undefined);

  let mutualTls: string;
  let plaintext: string;
  beforeAll(async () => {
    mutualTls = await serve(await transportOf('server'));
    plaintext = await serve(InternalTransport.plaintext());
  });

  async function registryAs(name: string | undefined): Promise<GrpcServiceClient<nodeRegistryApi.NodeRegistryServiceClient>> {
    const transport = name ? await transportOf(name) : InternalTransport.plaintext();
    const client = new GrpcServiceClient<nodeRegistryApi.NodeRegistryServiceClient>(
      NODE_REGISTRY_SERVICE,
      name ? mutualTls : plaintext,
      transport,
      5000,
    );
    clients.push(client);
    return client;
  }

  const withToken = (token: string) => {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    return { metadata };
  };
  const registration = { nodeId: 'n', address: 'a:1', usage: undefined, diskId: 'd' };

  it('names the kind of service of an identity; anything else under the prefix is a storage node', () => {
    expect(['gateway', 'auth', 'metadata', 'node-7', 'anything'].map((n) => serviceKindOf(serviceIdentity(n)))).toEqual([
      'gateway',
      'auth',
      'metadata',
      'storage-node',
      'storage-node',
    ]);
    expect(serviceKindOf(undefined)).toBeUndefined();
    expect(serviceKindOf(serviceIdentity(''))).toBeUndefined();
    expect(serviceKindOf('spiffe://elsewhere/gateway')).toBeUndefined();
  });

  it('serves a caller whose certificate names an allowed service, and refuses every other one', async () => {
    expect(await (await registryAs('node-7')).call('heartbeat', { nodeId: 'n', usage: undefined })).toEqual({ known: true });
    for (const name of ['gateway', 'metadata', 'auth']) {
      await expect((await registryAs(name)).call('heartbeat', { nodeId: 'n', usage: undefined })).rejects.toMatchObject({
        code: 'PERMISSION_DENIED',
        message: expect.stringContaining(`${serviceIdentity(name)} may not call`) as unknown,
      });
    }
    await expect((await registryAs('node-7')).call('registerNode', registration, withToken('alice'))).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });
  });

  it('refuses everyone a handler that declares no callers', async () => {
    for (const name of ['gateway', 'metadata', 'node-7']) {
      await expect((await registryAs(name)).call('listNodes', {})).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    }
  });

  it('gives a @ForUser handler the user of the verified token, and refuses a call without a valid one', async () => {
    const gateway = await registryAs('gateway');
    expect((await gateway.call('getClusterStatus', {}, withToken('alice'))).replicationFactor).toBe(3);
    expect((await gateway.call('registerNode', registration, withToken('alice'))).heartbeatIntervalSeconds).toBe(5);
    await expect(gateway.call('getClusterStatus', {})).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await expect(gateway.call('getClusterStatus', {}, withToken('forged'))).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('accepts an expired token only where the handler says so', async () => {
    const gateway = await registryAs('gateway');
    expect((await gateway.call('registerNode', registration, withToken('expired'))).heartbeatIntervalSeconds).toBe(4);
    await expect(gateway.call('getClusterStatus', {}, withToken('expired'))).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
  });

  it('lets an admin handler serve only an admin token', async () => {
    const gateway = await registryAs('gateway');
    expect((await gateway.call('drainNode', { nodeId: 'node-7' }, withToken('root'))).nodeId).toBe('node-7 by root');
    await expect(gateway.call('drainNode', { nodeId: 'node-7' }, withToken('alice'))).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });
  });

  it('answers a refused client stream at once, not at its deadline', async () => {
    const call = (name: string) =>
      transportOf(name).then((transport) => {
        const client = new GrpcServiceClient<storageNodeApi.StorageNodeServiceClient>(
          STORAGE_NODE_SERVICE,
          mutualTls,
          transport,
          60_000,
        );
        clients.push(client);
        return new Promise<string>((resolve) => {
          const stream = (
            client.raw['putChunk'] as (
              o: object,
              cb: (e: { code: number } | null, r?: storageNodeApi.PutChunkResponse) => void,
            ) => NodeJS.WritableStream
          ).call(client.raw, client.callOptions(), (error, response) =>
            resolve(error ? `status ${error.code}` : (response?.chunkId ?? '')),
          );
          stream.end();
        });
      });
    const started = Date.now();
    expect(await call('gateway')).toBe(`status ${GrpcStatus.PERMISSION_DENIED}`);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await call('metadata')).toBe('stored');
  });

  it("forwards the request's verified user token to a service that verifies users, never to a storage node", async () => {
    const gateway = await registryAs('gateway');
    const storageNode = new GrpcServiceClient<storageNodeApi.StorageNodeServiceClient>(
      STORAGE_NODE_SERVICE,
      mutualTls,
      await transportOf('metadata'),
    );
    clients.push(storageNode);
    const put = () =>
      new Promise<string>((resolve) => {
        (
          storageNode.raw['putChunk'] as (
            o: object,
            cb: (e: unknown, r?: storageNodeApi.PutChunkResponse) => void,
          ) => NodeJS.WritableStream
        )
          .call(storageNode.raw, storageNode.callOptions(), (_e, response) => resolve(response?.chunkId ?? 'failed'))
          .end();
      });
    const [drained, stored] = await runWithRequestId(undefined, async () => {
      setRequestAccessToken('root');
      return [(await gateway.call('drainNode', { nodeId: 'node-7' })).nodeId, await put()];
    });
    expect([drained, stored]).toEqual(['node-7 by root', 'stored']);
    await expect(gateway.call('drainNode', { nodeId: 'node-7' })).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('with INTERNAL_TLS=off checks no identity, and still verifies user tokens', async () => {
    const anyone = await registryAs(undefined);
    expect(await anyone.call('heartbeat', { nodeId: 'n', usage: undefined })).toEqual({ known: true });
    expect((await anyone.call('drainNode', { nodeId: 'x' }, withToken('root'))).nodeId).toBe('x by root');
    await expect(anyone.call('drainNode', { nodeId: 'x' }, withToken('alice'))).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });
    await expect(anyone.call('getClusterStatus', {})).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await expect(anyone.call('listNodes', {})).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });
});
