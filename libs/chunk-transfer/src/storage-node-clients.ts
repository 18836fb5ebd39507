import { STORAGE_NODE_SERVICE, type storageNodeApi } from '@cloudstore/contracts';
import { checkGrpcHealth, GrpcServiceClient, type InternalTransport } from '@cloudstore/grpc';
import { DEFAULT_NODE_HEALTH, NodeHealth, type NodeHealthOptions, type NodeProbe } from './node-health';

export type StorageNodeClient = GrpcServiceClient<storageNodeApi.StorageNodeServiceClient>;

/** A node that went away is dialled again within this long of coming back. */
const MAX_RECONNECT_BACKOFF_MS = 1000;

/**
 * One gRPC channel per storage node address, opened on first use and shared by every transfer;
 * and `health`, what this process has seen of each node, whose probes go over those channels
 * (so a node is back once the channel reads use is).
 */
export class StorageNodeClients {
  private readonly clients = new Map<string, StorageNodeClient>();
  readonly health: NodeHealth;

  /** `transport`: the process's mutual TLS, which every node channel uses. */
  constructor(
    private readonly transport: InternalTransport,
    healthOptions: NodeHealthOptions = DEFAULT_NODE_HEALTH,
    probe?: NodeProbe,
  ) {
    this.health = new NodeHealth(healthOptions, probe ?? ((address, timeoutMs) => this.probe(address, timeoutMs)));
  }

  get(address: string): StorageNodeClient {
    let client = this.clients.get(address);
    if (!client) {
      client = new GrpcServiceClient(STORAGE_NODE_SERVICE, address, this.transport, 10_000, {
        'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MS,
      });
      this.clients.set(address, client);
    }
    return client;
  }

  private async probe(address: string, timeoutMs: number): Promise<void> {
    const status = await checkGrpcHealth(address, this.transport, '', timeoutMs, this.get(address).raw.getChannel());
    if (status !== 'SERVING') throw new Error(`${address} is ${status}`);
  }

  close(): void {
    this.health.close();
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
