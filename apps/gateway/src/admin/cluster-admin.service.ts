import { Injectable } from '@nestjs/common';
import type { nodeRegistryApi } from '@cloudstore/contracts';
import { InternalClients } from '../internal-clients/internal-clients';

export interface ClusterNodeView {
  node_id: string;
  address: string;
  status: string;
  used_bytes: number;
  capacity_bytes: number;
  chunk_count: number;
  last_heartbeat: number;
}

export interface ClusterView {
  nodes: ClusterNodeView[];
  under_replicated_chunks: number;
  replication_factor: number;
  jobs: { waiting: number; active: number; failed: number; completed: number; delayed: number };
}

export function clusterNodeView(node: nodeRegistryApi.NodeInfo): ClusterNodeView {
  return {
    node_id: node.nodeId,
    address: node.address,
    status: node.status,
    used_bytes: node.usedBytes,
    capacity_bytes: node.capacityBytes,
    chunk_count: node.chunkCount,
    last_heartbeat: node.lastHeartbeat,
  };
}

/** The admin's view of the storage cluster; the metadata service owns it. */
@Injectable()
export class ClusterAdminService {
  constructor(private readonly clients: InternalClients) {}

  async status(): Promise<ClusterView> {
    const status = await this.clients.nodeRegistry.call('getClusterStatus', {});
    return {
      nodes: status.nodes.map(clusterNodeView),
      under_replicated_chunks: status.underReplicatedChunks,
      replication_factor: status.replicationFactor,
      jobs: status.jobs ?? { waiting: 0, active: 0, failed: 0, completed: 0, delayed: 0 },
    };
  }

  async drain(nodeId: string): Promise<ClusterNodeView> {
    return clusterNodeView(await this.clients.nodeRegistry.call('drainNode', { nodeId }));
  }
}
