import { Injectable } from '@nestjs/common';
import { Metrics } from '@cloudstore/observability';
import { Counter } from 'prom-client';

/** What the data path moves, and how often a replica lets it down. */
@Injectable()
export class FileTransferMetrics {
  readonly uploadedBytes: Counter;
  readonly downloadedBytes: Counter;
  readonly replicaWriteFailures: Counter<'node_id'>;
  readonly replicaReadFailures: Counter<'node_id' | 'problem'>;

  constructor(metrics: Metrics) {
    const registers = [metrics.registry];
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
