import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { StorageNodeConfig } from '@cloudstore/config';
import { nodeRegistryApi } from '@cloudstore/contracts';
import type { GrpcServiceClient } from '@cloudstore/grpc';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { ChunkStore } from '../chunk-store/chunk-store';
import { NODE_CONFIG, NODE_REGISTRY_CLIENT } from '../storage-node.tokens';

// A registration or heartbeat is one small call: retrying it often costs nothing, and a node
// back within half a second of the metadata service is not counted down, nor late to a cluster
// start (the metadata service is usually the last to answer).
const FIRST_RETRY_DELAY_MS = 250;
const MAX_RETRY_DELAY_MS = 500;
/** While failing, one warning per this many attempts (about every 10 s), not one per attempt. */
const WARN_EVERY_ATTEMPTS = 20;

/**
 * Announces the node to the metadata service (id, address, capacity, usage) and keeps it alive
 * there with heartbeats. Registration retries until the metadata service answers, and repeats
 * whenever the registry says it no longer knows the node.
 */
@Injectable()
export class NodeRegistrationService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private registered = false;
  private heartbeatIntervalMs = 5000;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: StorageNodeConfig,
    @Inject(NODE_REGISTRY_CLIENT) private readonly registry: GrpcServiceClient<nodeRegistryApi.NodeRegistryServiceClient>,
    private readonly store: ChunkStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** True once the registry has accepted the node (and until it forgets it). */
  get isRegistered(): boolean {
    return this.registered;
  }

  onApplicationBootstrap(): void {
    this.schedule(0, 0);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.registry.close();
  }

  private schedule(delayMs: number, failures: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(failures), delayMs);
  }

  private async usage(): Promise<nodeRegistryApi.NodeUsage> {
    const { usedBytes, chunkCount } = this.store.usage();
    return { capacityBytes: await this.store.capacity(), usedBytes, chunkCount };
  }

  private async tick(failures: number): Promise<void> {
    try {
      if (!this.registered) {
        const response = await this.registry.call('registerNode', {
          nodeId: this.config.STORAGE_NODE_ID,
          address: this.config.STORAGE_NODE_ADDRESS,
          usage: await this.usage(),
          diskId: this.store.diskId,
        });
        this.heartbeatIntervalMs = Math.max(1, response.heartbeatIntervalSeconds) * 1000;
        this.registered = true;
        this.logger.info(
          { nodeId: this.config.STORAGE_NODE_ID, address: this.config.STORAGE_NODE_ADDRESS },
          'registered with the metadata service',
        );
      } else {
        const response = await this.registry.call('heartbeat', {
          nodeId: this.config.STORAGE_NODE_ID,
          usage: await this.usage(),
        });
        if (!response.known) {
          this.registered = false;
          this.logger.warn('the metadata service no longer knows this node: registering again');
          this.schedule(0, 0);
          return;
        }
      }
      this.schedule(this.heartbeatIntervalMs, 0);
    } catch (error) {
      const delay = Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** failures);
      const reason = error instanceof Error ? error.message : String(error);
      if (failures % WARN_EVERY_ATTEMPTS === 0)
        this.logger.warn(
          { reason, retryInMs: delay, attempts: failures + 1 },
          this.registered ? 'heartbeat failed' : 'registration failed',
        );
      this.schedule(delay, failures + 1);
    }
  }
}
