import { Controller, UseGuards } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { NODE_REGISTRY_SERVICE, nodeRegistryApi } from '@cloudstore/contracts';
import { NodeIdentityGuard } from './node-identity.guard';
import { NodeRegistryService } from './node-registry.service';

const SERVICE = NODE_REGISTRY_SERVICE.serviceName;

@Controller()
export class NodeRegistryController {
  constructor(private readonly registry: NodeRegistryService) {}

  @GrpcMethod(SERVICE, 'RegisterNode')
  @UseGuards(NodeIdentityGuard)
  registerNode(request: nodeRegistryApi.RegisterNodeRequest): Promise<nodeRegistryApi.RegisterNodeResponse> {
    return this.registry.register(request);
  }

  @GrpcMethod(SERVICE, 'Heartbeat')
  @UseGuards(NodeIdentityGuard)
  heartbeat(request: nodeRegistryApi.HeartbeatRequest): Promise<nodeRegistryApi.HeartbeatResponse> {
    return this.registry.heartbeat(request);
  }

  @GrpcMethod(SERVICE, 'ListNodes')
  listNodes(): Promise<nodeRegistryApi.ListNodesResponse> {
    return this.registry.list();
  }
}
