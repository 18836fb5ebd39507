import { access, constants } from 'node:fs/promises';
import type { StorageNodeConfig } from '@cloudstore/config';
import { TRANSFER_MESSAGE_BYTES } from '@cloudstore/chunk-transfer';
import { STORAGE_NODE_SERVICE } from '@cloudstore/contracts';
import {
  type InternalTransport,
  listenHostFor,
  MESSAGE_ENVELOPE_BYTES,
  type RunningService,
  startGrpcService,
} from '@cloudstore/grpc';
import { HealthMonitor, type Logger, Metrics } from '@cloudstore/observability';
import { ChunkStore } from './chunk-store/chunk-store';
import { nodeDataDir, StorageNodeModule } from './storage-node.module';

/** Opens the node's chunk store and serves it over gRPC; registration with metadata follows. */
export async function startStorageNode(
  config: StorageNodeConfig,
  logger: Logger,
  transport: InternalTransport,
): Promise<RunningService> {
  const metrics = new Metrics('storage-node');
  const store = new ChunkStore(nodeDataDir(config), config.STORAGE_NODE_CAPACITY_BYTES);
  await store.open();
  logger.info({ dataDir: store.rootDir, ...store.usage() }, 'chunk store opened');
  const health = new HealthMonitor(
    [STORAGE_NODE_SERVICE.serviceName],
    [{ name: 'disk', check: () => access(store.rootDir, constants.W_OK) }],
    logger,
  );
  return startGrpcService({
    module: StorageNodeModule.register({ config, logger, metrics, store, transport }),
    services: [STORAGE_NODE_SERVICE],
    port: config.STORAGE_NODE_PORT,
    host: listenHostFor(config.STORAGE_NODE_ADDRESS),
    transport,
    health,
    // PutChunk streams a chunk in pieces of TRANSFER_MESSAGE_BYTES.
    maxReceiveMessageBytes: TRANSFER_MESSAGE_BYTES + MESSAGE_ENVELOPE_BYTES,
    logger,
    metrics,
    metricsPort: config.METRICS_PORT,
    // A write cancelled by the stop removes its temp file: let it, so no stray bytes stay behind.
    onShutdown: () => store.settle(),
  });
}
