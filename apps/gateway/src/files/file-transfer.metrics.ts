import { Injectable } from '@nestjs/common';
import { registerNodeHealthGauge } from '@cloudstore/chunk-transfer';
import { Metrics } from '@cloudstore/observability';
import { Counter } from 'prom-client';
import { InternalClients } from '../internal-clients/internal-clients';

/** What the data path moves, and how often a replica lets it down. */
@Injectable()
export class FileTransferMetrics {
  readonly uploadedBytes: Counter;
  readonly downloadedBytes: Counter;
  readonly replicaWriteFailures: Counter<'node_id'>;
  readonly replicaReadFailures: Counter<'node_id' | 'problem'>;

  constructor(metrics: Metrics, clients: InternalClients) {
    const registers = [metrics.registry];
    registerNodeHealthGauge(clients.storageNodes.health, metrics.registry, 'cloudstore_storage_node_condition');
    this.uploadedBytes = new Counter({ name: 'cloudstore_uploaded_bytes_total', help: 'Bytes of committed uploads.', registers });
    this.downloadedBytes = new Counter({
      name: 'cloudstore_downloaded_bytes_total',
      help: 'Verified bytes sent to clients.',
      registers,
    });
    this.replicaWriteFailures = new Counter({
      name: 'cloudstore_replica_write_failures_total',
      help: 'Chunk writes a storage node failed.',
      labelNames: ['node_id'],
      registers,
    });
    this.replicaReadFailures = new Counter({
      name: 'cloudstore_replica_read_failures_total',
      help: 'Chunk reads that a replica failed (missing, corrupt, unavailable).',
      labelNames: ['node_id', 'problem'],
      registers,
    });
  }
}
