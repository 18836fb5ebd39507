import type { GatewayConfig } from '@cloudstore/config';
import { NODE_REGISTRY_SERVICE, type nodeRegistryApi } from '@cloudstore/contracts';
import { GrpcServiceClient } from '@cloudstore/grpc';

/** The gateway's connections to the internal services; one channel each, shared by all requests. */
export class InternalClients {
  readonly nodeRegistry: GrpcServiceClient<nodeRegistryApi.NodeRegistryServiceClient>;

  constructor(readonly config: GatewayConfig) {
    this.nodeRegistry = new GrpcServiceClient(NODE_REGISTRY_SERVICE, config.METADATA_ADDRESS, 5000);
  }

  close(): void {
    this.nodeRegistry.close();
  }
}
