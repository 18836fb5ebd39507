import { Inject, Injectable } from '@nestjs/common';
import { NodeHealth, type NodeCondition } from '@cloudstore/chunk-transfer';
import type { MetadataConfig } from '@cloudstore/config';
import { InvalidArgumentError, nodeRegistryApi } from '@cloudstore/contracts';
import { toUnixSeconds } from '@cloudstore/database';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { nodeAuditEvent } from '../audit/audit-entry';
import { AuditLogRepository } from '../audit/audit-log.repository';
import { METADATA_CONFIG } from '../metadata.tokens';
import { JobQueues } from '../jobs/job-queues';
import { NodeRegistryRepository, type NodeUsage, type NodeWithLiveness } from './node-registry.repository';

const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const ADDRESS_PATTERN = /^[^\s:]+:\d{1,5}$/;

/** Refuses a node id that no node can have; never quotes it: it may be anything a caller sent, of any length. */
export function checkNodeId(nodeId: string): void {
  if (!NODE_ID_PATTERN.test(nodeId)) throw new InvalidArgumentError('node_id must be 1-64 characters of [A-Za-z0-9_-]');
}

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
    private readonly jobs: JobQueues,
    private readonly health: NodeHealth,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly auditLog: AuditLogRepository,
  ) {}

  async register(request: nodeRegistryApi.RegisterNodeRequest): Promise<nodeRegistryApi.RegisterNodeResponse> {
    checkNodeId(request.nodeId);
    if (!ADDRESS_PATTERN.test(request.address)) throw new InvalidArgumentError('address must be host:port');
    // A node that joins the cluster is audited (the guard let only its own certificate register it).
    const lost = await this.repository.register(
      request.nodeId,
      request.address,
      validUsage(request.usage),
      request.diskId,
      (manager) => this.auditLog.append([nodeAuditEvent('node.join', request.nodeId, { address: request.address })], manager),
    );
    this.logger.info({ nodeId: request.nodeId, address: request.address }, 'storage node registered');
    if (lost > 0) {
      this.logger.warn({ nodeId: request.nodeId, lost }, 'storage node came back with another disk: its replicas are repaired');
      await this.jobs.checkReplicationNow();
    }
    // A node that (re)starts may have lost chunks, or kept some nobody needs any more.
    await this.jobs.reconcileNode(request.nodeId);
    return { heartbeatIntervalSeconds: this.config.HEARTBEAT_INTERVAL_SECONDS };
  }

  async heartbeat(request: nodeRegistryApi.HeartbeatRequest): Promise<nodeRegistryApi.HeartbeatResponse> {
    return { known: await this.repository.touch(request.nodeId, validUsage(request.usage)) };
  }

  async list(): Promise<nodeRegistryApi.ListNodesResponse> {
    const nodes = await this.repository.listWithLiveness(this.config.NODE_DOWN_AFTER_SECONDS);
    return { nodes: nodes.map((n) => nodeInfo(n, this.health.condition(n.nodeId))) };
  }

  /** Marks the node draining: it receives nothing new, and its replicas are copied away. */
  async startDrain(nodeId: string): Promise<nodeRegistryApi.NodeInfo | undefined> {
    checkNodeId(nodeId);
    if (!(await this.repository.markDraining(nodeId))) return undefined;
    this.logger.info({ nodeId }, 'draining storage node');
    return (await this.list()).nodes.find((n) => n.nodeId === nodeId);
  }
}

/**
 * A node as operators see it: `drained`, `draining` (or `down` if a draining node stopped
 * answering), else `down` by its heartbeats, `suspect` while its reads fail (circuit open until a
 * probe answers), or `up`.
 */
function nodeStatus(node: NodeWithLiveness, condition: NodeCondition): string {
  if (node.state === 'drained') return 'drained';
  if (!node.alive) return 'down';
  if (node.state === 'draining') return 'draining';
  return condition;
}

function nodeInfo(node: NodeWithLiveness, condition: NodeCondition): nodeRegistryApi.NodeInfo {
  return {
    nodeId: node.nodeId,
    address: node.address,
    status: nodeStatus(node, condition),
    capacityBytes: node.capacityBytes,
    usedBytes: node.usedBytes,
    chunkCount: node.chunkCount,
    lastHeartbeat: toUnixSeconds(node.lastHeartbeatAt),
    registeredAt: toUnixSeconds(node.registeredAt),
    state: node.state,
  };
}
