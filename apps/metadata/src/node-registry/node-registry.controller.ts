import type { Metadata } from '@grpc/grpc-js';
import { Controller, UseGuards } from '@nestjs/common';
import { nodeRegistryApi } from '@cloudstore/contracts';
import { AllowedCallers, ForUser, verifiedUser } from '@cloudstore/grpc';
import { ClusterStatusService } from '../replication/cluster-status.service';
import { NodeIdentityGuard } from './node-identity.guard';
import { NodeRegistryService } from './node-registry.service';

@Controller()
@nodeRegistryApi.NodeRegistryServiceControllerMethods()
export class NodeRegistryController implements nodeRegistryApi.NodeRegistryServiceController {
  constructor(
    private readonly registry: NodeRegistryService,
    private readonly cluster: ClusterStatusService,
  ) {}

  /** Only the node its certificate names may register or send heartbeats as it. */
  @AllowedCallers('storage-node')
  @UseGuards(NodeIdentityGuard)
  registerNode(request: nodeRegistryApi.RegisterNodeRequest): Promise<nodeRegistryApi.RegisterNodeResponse> {
    return this.registry.register(request);
  }

  @AllowedCallers('storage-node')
  @UseGuards(NodeIdentityGuard)
  heartbeat(request: nodeRegistryApi.HeartbeatRequest): Promise<nodeRegistryApi.HeartbeatResponse> {
    return this.registry.heartbeat(request);
  }

  /** A node's preStop guard, asking about itself only. */
  @AllowedCallers('storage-node')
  @UseGuards(NodeIdentityGuard)
  getSoleCopies(request: nodeRegistryApi.GetSoleCopiesRequest): Promise<nodeRegistryApi.SoleCopies> {
    return this.cluster.soleCopies(request.nodeId);
  }

  /** The gateway's readiness check. */
  @AllowedCallers('gateway')
  listNodes(): Promise<nodeRegistryApi.ListNodesResponse> {
    return this.registry.list();
  }

  /** The operator's side: cluster status and drains, for an admin's access token. */
  @AllowedCallers('gateway')
  @ForUser({ role: 'admin' })
  getClusterStatus(): Promise<nodeRegistryApi.ClusterStatus> {
    return this.cluster.status();
  }

  @AllowedCallers('gateway')
  @ForUser({ role: 'admin' })
  drainNode(request: nodeRegistryApi.DrainNodeRequest, metadata?: Metadata): Promise<nodeRegistryApi.NodeInfo> {
    return this.cluster.drain(request.nodeId, verifiedUser(metadata));
  }
}
