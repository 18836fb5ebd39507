import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { NODE_REGISTRY_SERVICE, nodeRegistryApi } from '@cloudstore/contracts';
import { ClusterStatusService } from './cluster-status.service';

const SERVICE = NODE_REGISTRY_SERVICE.serviceName;

/** The operator's side of the node registry: cluster status and drains. */
@Controller()
export class ClusterController {
  constructor(private readonly cluster: ClusterStatusService) {}

  @GrpcMethod(SERVICE, 'GetClusterStatus')
  getClusterStatus(): Promise<nodeRegistryApi.ClusterStatus> {
    return this.cluster.status();
  }

  @GrpcMethod(SERVICE, 'DrainNode')
  drainNode(request: nodeRegistryApi.DrainNodeRequest): Promise<nodeRegistryApi.NodeInfo> {
    return this.cluster.drain(request.nodeId);
  }
}
