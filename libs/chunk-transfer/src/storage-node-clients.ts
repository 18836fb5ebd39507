import { STORAGE_NODE_SERVICE, type storageNodeApi } from '@cloudstore/contracts';
import { GrpcServiceClient } from '@cloudstore/grpc';

export type StorageNodeClient = GrpcServiceClient<storageNodeApi.StorageNodeServiceClient>;

/** One gRPC channel per storage node address, opened on first use and shared by every transfer. */
export class StorageNodeClients {
  private readonly clients = new Map<string, StorageNodeClient>();

  get(address: string): StorageNodeClient {
    let client = this.clients.get(address);
    if (!client) {
      client = new GrpcServiceClient(STORAGE_NODE_SERVICE, address, 10_000);
      this.clients.set(address, client);
    }
    return client;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
