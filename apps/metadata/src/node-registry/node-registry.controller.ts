import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { NODE_REGISTRY_SERVICE, nodeRegistryApi } from '@cloudstore/contracts';
import { NodeRegistryService } from './node-registry.service';

const SERVICE = NODE_REGISTRY_SERVICE.serviceName;

@Controller()
export class NodeRegistryController {
  constructor(private readonly registry: NodeRegistryService) {}

  @GrpcMethod(SERVICE, 'RegisterNode')
  registerNode(request: nodeRegistryApi.RegisterNodeRequest): Promise<nodeRegistryApi.RegisterNodeResponse> {
    return this.registry.register(request);
  }

  @GrpcMethod(SERVICE, 'Heartbeat')
  heartbeat(request: nodeRegistryApi.HeartbeatRequest): Promise<nodeRegistryApi.HeartbeatResponse> {
    return this.registry.heartbeat(request);
  }

  @GrpcMethod(SERVICE, 'ListNodes')
  listNodes(): Promise<nodeRegistryApi.ListNodesResponse> {
    return this.registry.list();
  }
}
