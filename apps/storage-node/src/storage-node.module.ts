import { join } from 'node:path';
import { type DynamicModule, Module } from '@nestjs/common';
import type { StorageNodeConfig } from '@cloudstore/config';
import { NODE_REGISTRY_SERVICE } from '@cloudstore/contracts';
import { GrpcServiceClient, type InternalTransport } from '@cloudstore/grpc';
import { type Logger, type Metrics, observabilityProviders } from '@cloudstore/observability';
import { ChunkStore } from './chunk-store/chunk-store';
import { ChunkStoreController } from './chunk-store/chunk-store.controller';
import { NodeRegistrationService } from './registration/node-registration.service';
import { NODE_CONFIG, NODE_REGISTRY_CLIENT } from './storage-node.tokens';

/** Where a node keeps its chunks: DATA_DIR/nodes/<node id>. */
export function nodeDataDir(config: StorageNodeConfig): string {
  return join(config.DATA_DIR, 'nodes', config.STORAGE_NODE_ID);
}

@Module({})
export class StorageNodeModule {
  static register(options: {
    config: StorageNodeConfig;
    logger: Logger;
    metrics: Metrics;
    store: ChunkStore;
    transport: InternalTransport;
  }): DynamicModule {
    return {
      module: StorageNodeModule,
      controllers: [ChunkStoreController],
      providers: [
        { provide: NODE_CONFIG, useValue: options.config },
        ...observabilityProviders(options.logger, options.metrics),
        { provide: ChunkStore, useValue: options.store },
        {
          provide: NODE_REGISTRY_CLIENT,
          useFactory: () =>
            new GrpcServiceClient(NODE_REGISTRY_SERVICE, options.config.METADATA_ADDRESS, options.transport, 5000),
        },
        NodeRegistrationService,
      ],
    };
  }
}
