import { type DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { MetadataConfig } from '@cloudstore/config';
import type { InternalTransport } from '@cloudstore/grpc';
import { type Logger, type Metrics, observabilityProviders } from '@cloudstore/observability';
import type { DataSource } from 'typeorm';
import { AuditChain } from './audit/audit-chain';
import { AuditModule } from './audit/audit.module';
import { FilesModule } from './files/files.module';
import { NodeHealth, registerNodeHealthGauge, ReplicaReader, StorageNodeClients } from '@cloudstore/chunk-transfer';
import type { Redis } from 'ioredis';
import { ChunkLocks } from './jobs/chunk-locks';
import { JobQueues } from './jobs/job-queues';
import { METADATA_CONFIG, METADATA_REDIS, METADATA_TRANSPORT } from './metadata.tokens';
import { ReplicationModule } from './replication/replication.module';
import { NodeRegistryModule } from './node-registry/node-registry.module';

/** A repair or drain read from one replica fails when no bytes arrive for this long. */
const REPLICA_READ_IDLE_MS = 30_000;

/** What the process provides to every feature module: config, logger, metrics. */
@Global()
@Module({})
class MetadataCoreModule {
  static register(
    config: MetadataConfig,
    logger: Logger,
    metrics: Metrics,
    redis: Redis,
    transport: InternalTransport,
    auditChain: AuditChain,
  ): DynamicModule {
    const providers = [
      { provide: METADATA_CONFIG, useValue: config },
      { provide: AuditChain, useValue: auditChain },
      { provide: METADATA_REDIS, useValue: redis },
      { provide: METADATA_TRANSPORT, useValue: transport },
      { provide: StorageNodeClients, useFactory: () => new StorageNodeClients(transport) },
      {
        provide: NodeHealth,
        inject: [StorageNodeClients],
        useFactory: (clients: StorageNodeClients) => {
          registerNodeHealthGauge(clients.health, metrics.registry, 'cloudstore_storage_node_condition');
          return clients.health;
        },
      },
      {
        provide: ReplicaReader,
        inject: [StorageNodeClients],
        useFactory: (clients: StorageNodeClients) => new ReplicaReader(clients, REPLICA_READ_IDLE_MS),
      },
      JobQueues,
      ChunkLocks,
      ...observabilityProviders(logger, metrics),
    ];
    return { module: MetadataCoreModule, providers, exports: providers };
  }
}

@Module({})
export class MetadataModule {
  /** `dataSource` is initialised and migrated by main before the module starts. */
  static register(options: {
    config: MetadataConfig;
    logger: Logger;
    metrics: Metrics;
    dataSource: DataSource;
    redis: Redis;
    /** Mutual TLS to the storage nodes (repairs, drains, scrubs, probes). */
    transport: InternalTransport;
    /** The audit chain under its keys (AuditChainKeys). */
    auditChain: AuditChain;
  }): DynamicModule {
    return {
      module: MetadataModule,
      imports: [
        MetadataCoreModule.register(
          options.config,
          options.logger,
          options.metrics,
          options.redis,
          options.transport,
          options.auditChain,
        ),
        TypeOrmModule.forRootAsync({
          useFactory: () => options.dataSource.options,
          dataSourceFactory: () => Promise.resolve(options.dataSource),
        }),
        NodeRegistryModule,
        AuditModule,
        FilesModule,
        ReplicationModule,
      ],
    };
  }
}
