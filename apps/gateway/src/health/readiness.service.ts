import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@cloudstore/config';
import { checkGrpcHealth, type InternalTransport } from '@cloudstore/grpc';
import { type CheckResult, dependencyHealthName, probe, type Readiness, readinessOf } from '@cloudstore/observability';
import type { Redis } from 'ioredis';
import { GATEWAY_CONFIG, REDIS } from '../gateway.tokens';
import { InternalClients } from '../internal-clients/internal-clients';

export type StorageNodeCheck = CheckResult & { node_id: string; address: string };

export type GatewayReadiness = Readiness<{
  postgres: CheckResult;
  redis: CheckResult;
  auth: CheckResult;
  metadata: CheckResult;
  storage_nodes: CheckResult & { up: number; total: number; nodes: StorageNodeCheck[] };
}>;

const CHECK_TIMEOUT_MS = 1500;

async function expectServing(transport: InternalTransport, address: string, service = ''): Promise<void> {
  const status = await checkGrpcHealth(address, transport, service, CHECK_TIMEOUT_MS);
  if (status !== 'SERVING') throw new Error(`${address} reports ${status}`);
}

/**
 * Whether the cluster can serve requests: Redis (which the gateway uses directly), the auth and
 * metadata services, PostgreSQL (as the metadata service sees it), and at least one storage
 * node that is both alive in the registry and answering its own health check.
 */
@Injectable()
export class ReadinessService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly clients: InternalClients,
  ) {}

  /** The checks that decide whether the gateway's own gRPC port reports SERVING. */
  gatewayDependencies(): { name: string; check: () => Promise<void> }[] {
    return [
      { name: 'redis', check: async () => void (await this.redis.ping()) },
      { name: 'auth', check: () => expectServing(this.clients.transport, this.config.AUTH_ADDRESS) },
      { name: 'metadata', check: () => expectServing(this.clients.transport, this.config.METADATA_ADDRESS) },
    ];
  }

  async check(): Promise<GatewayReadiness> {
    const [postgres, redis, auth, metadata, storageNodes] = await Promise.all([
      probe(() => expectServing(this.clients.transport, this.config.METADATA_ADDRESS, dependencyHealthName('postgres'))),
      probe(async () => void (await this.redis.ping())),
      probe(() => expectServing(this.clients.transport, this.config.AUTH_ADDRESS)),
      probe(() => expectServing(this.clients.transport, this.config.METADATA_ADDRESS)),
      this.checkStorageNodes(),
    ]);
    return readinessOf({ postgres, redis, auth, metadata, storage_nodes: storageNodes });
  }

  private async checkStorageNodes(): Promise<GatewayReadiness['checks']['storage_nodes']> {
    let registered;
    try {
      registered = (await this.clients.nodeRegistry.call('listNodes', {}, { timeoutMs: CHECK_TIMEOUT_MS })).nodes;
    } catch (error) {
      return { status: 'down', error: `node registry: ${(error as Error).message}`, up: 0, total: 0, nodes: [] };
    }
    const nodes = await Promise.all(
      registered.map(async (node): Promise<StorageNodeCheck> => {
        const base = { node_id: node.nodeId, address: node.address };
        if (!['up', 'suspect', 'draining'].includes(node.status))
          return { ...base, status: 'down', error: `node is ${node.status}` };
        const result = await probe(() => expectServing(this.clients.transport, node.address));
        return { ...base, ...result };
      }),
    );
    const up = nodes.filter((n) => n.status === 'up').length;
    return {
      status: up > 0 ? 'up' : 'down',
      ...(up === 0 ? { error: 'no storage node is reachable' } : {}),
      up,
      total: nodes.length,
      nodes,
    };
  }
}
