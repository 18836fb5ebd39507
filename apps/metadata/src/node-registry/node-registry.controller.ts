import { Controller, UseGuards } from '@nestjs/common';
import { nodeRegistryApi } from '@cloudstore/contracts';
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
  @UseGuards(NodeIdentityGuard)
  registerNode(request: nodeRegistryApi.RegisterNodeRequest): Promise<nodeRegistryApi.RegisterNodeResponse> {
    return this.registry.register(request);
  }

  @UseGuards(NodeIdentityGuard)
  heartbeat(request: nodeRegistryApi.HeartbeatRequest): Promise<nodeRegistryApi.HeartbeatResponse> {
    return this.registry.heartbeat(request);
  }

  listNodes(): Promise<nodeRegistryApi.ListNodesResponse> {
    return this.registry.list();
  }

  /** The operator's side: cluster status and drains. */
  getClusterStatus(): Promise<nodeRegistryApi.ClusterStatus> {
    return this.cluster.status();
  }

  drainNode(request: nodeRegistryApi.DrainNodeRequest): Promise<nodeRegistryApi.NodeInfo> {
    return this.cluster.drain(request.nodeId);
  }
}
