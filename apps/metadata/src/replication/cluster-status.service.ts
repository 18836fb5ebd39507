import { Inject, Injectable } from '@nestjs/common';
import type { MetadataConfig } from '@cloudstore/config';
import { NotFoundError, type nodeRegistryApi } from '@cloudstore/contracts';
import { LOGGER, type Logger, Metrics } from '@cloudstore/observability';
import { Gauge } from 'prom-client';
import { adminAuditEvent } from '../audit/audit-entry';
import { AuditLogRepository } from '../audit/audit-log.repository';
import { JobQueues } from '../jobs/job-queues';
import { METADATA_CONFIG } from '../metadata.tokens';
import { checkNodeId, NodeRegistryService } from '../node-registry/node-registry.service';
import { ReplicationRepository } from './replication.repository';

/**
 * What an operator watches (nodes, chunks below target, repair jobs; as an RPC and as gauges),
 * and what decides whether a node may leave: drains, and the chunks only it still holds.
 */
@Injectable()
export class ClusterStatusService {
  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    private readonly registry: NodeRegistryService,
    private readonly replicas: ReplicationRepository,
    private readonly queues: JobQueues,
    private readonly auditLog: AuditLogRepository,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: Metrics,
  ) {
    const registers = [metrics.registry];
    // Gauges read the database and Redis when Prometheus scrapes, so they are never stale.
    new Gauge({
      name: 'cloudstore_under_replicated_chunks',
      help: 'Chunks of live files with fewer healthy replicas than the target.',
      registers,
      async collect() {
        this.set(await replicas.countUnderReplicated());
      },
    });
    new Gauge({
      name: 'cloudstore_storage_nodes',
      help: 'Storage nodes by status (up, suspect, down, draining, drained).',
      labelNames: ['status'],
      registers,
      async collect() {
        const { nodes } = await registry.list();
        for (const status of ['up', 'suspect', 'down', 'draining', 'drained'])
          this.set({ status }, nodes.filter((n) => n.status === status).length);
      },
    });
    new Gauge({
      name: 'cloudstore_storage_node_bytes',
      help: 'Bytes used and offered per storage node, as its last heartbeat said.',
      labelNames: ['node_id', 'kind'],
      registers,
      async collect() {
        this.reset();
        for (const node of (await registry.list()).nodes) {
          this.set({ node_id: node.nodeId, kind: 'used' }, node.usedBytes);
          this.set({ node_id: node.nodeId, kind: 'capacity' }, node.capacityBytes);
        }
      },
    });
    new Gauge({
      name: 'cloudstore_replication_jobs',
      help: 'Chunk repair jobs by state.',
      labelNames: ['state'],
      registers,
      async collect() {
        for (const [state, count] of Object.entries(await queues.replicationJobCounts())) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'cloudstore_maintenance_jobs',
      help: 'Maintenance jobs (replication checks, node inventories, scrubs, rebalancing) by state.',
      labelNames: ['state'],
      registers,
      async collect() {
        for (const [state, count] of Object.entries(await queues.maintenanceJobCounts())) this.set({ state }, count);
      },
    });
  }

  async status(): Promise<nodeRegistryApi.ClusterStatus> {
    const [{ nodes }, underReplicated, jobs] = await Promise.all([
      this.registry.list(),
      this.replicas.countUnderReplicated(),
      this.queues.repairJobCounts(),
    ]);
    return { nodes, underReplicatedChunks: underReplicated, jobs, replicationFactor: this.config.REPLICATION_FACTOR };
  }

  /** Starts moving every replica off the node; the replication check finishes the drain. `admin`: for the audit log. */
  async drain(nodeId: string, admin: { readonly userId: string; readonly username: string }): Promise<nodeRegistryApi.NodeInfo> {
    const node = await this.registry.startDrain(nodeId);
    if (!node) throw new NotFoundError(`No storage node ${nodeId}`);
    await this.auditLog.append([adminAuditEvent(admin, 'admin.node_drain', { nodeId })]);
    await this.queues.checkReplicationNow();
    return node;
  }

  /**
   * How many chunks would lose their last healthy copy if the node stopped now (its preStop
   * guard asks until none would). While any would, the replication check runs now rather than
   * at its interval, so that the node waits for their repair, not for the next check.
   */
  async soleCopies(nodeId: string): Promise<nodeRegistryApi.SoleCopies> {
    checkNodeId(nodeId);
    const soleCopies = await this.replicas.countSoleCopies(nodeId);
    if (soleCopies > 0) {
      this.logger.info({ nodeId, soleCopies }, 'a node about to stop holds the only healthy copy of chunks: repairing them now');
      await this.queues.checkReplicationNow();
    }
    return { soleCopies };
  }
}
