import { Inject, Injectable } from '@nestjs/common';
import type { MetadataConfig } from '@cloudstore/config';
import { InvalidArgumentError, nodeRegistryApi } from '@cloudstore/contracts';
import { toUnixSeconds } from '@cloudstore/database';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { METADATA_CONFIG } from '../metadata.tokens';
import { NodeRegistryRepository, type NodeUsage } from './node-registry.repository';

const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const ADDRESS_PATTERN = /^[^\s:]+:\d{1,5}$/;

function validUsage(usage: nodeRegistryApi.NodeUsage | undefined): NodeUsage {
  const u = usage ?? { capacityBytes: 0, usedBytes: 0, chunkCount: 0 };
  for (const [name, value] of Object.entries(u)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  }
  return u;
}

/** The registry of storage nodes: who they are, where they listen, and whether they are alive. */
@Injectable()
export class NodeRegistryService {
  constructor(
    private readonly repository: NodeRegistryRepository,
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async register(request: nodeRegistryApi.RegisterNodeRequest): Promise<nodeRegistryApi.RegisterNodeResponse> {
    if (!NODE_ID_PATTERN.test(request.nodeId)) throw new InvalidArgumentError('node_id must be 1-64 characters of [A-Za-z0-9_-]');
    if (!ADDRESS_PATTERN.test(request.address)) throw new InvalidArgumentError('address must be host:port');
    await this.repository.upsert(request.nodeId, request.address, validUsage(request.usage));
    this.logger.info({ nodeId: request.nodeId, address: request.address }, 'storage node registered');
    return { heartbeatIntervalSeconds: this.config.HEARTBEAT_INTERVAL_SECONDS };
  }

  async heartbeat(request: nodeRegistryApi.HeartbeatRequest): Promise<nodeRegistryApi.HeartbeatResponse> {
    return { known: await this.repository.touch(request.nodeId, validUsage(request.usage)) };
  }

  async list(): Promise<nodeRegistryApi.ListNodesResponse> {
    const nodes = await this.repository.listWithLiveness(this.config.NODE_DOWN_AFTER_SECONDS);
    return {
      nodes: nodes.map((node) => ({
        nodeId: node.nodeId,
        address: node.address,
        status: node.alive ? 'up' : 'down',
        capacityBytes: node.capacityBytes,
        usedBytes: node.usedBytes,
        chunkCount: node.chunkCount,
        lastHeartbeat: toUnixSeconds(node.lastHeartbeatAt),
        registeredAt: toUnixSeconds(node.registeredAt),
      })),
    };
  }
}
