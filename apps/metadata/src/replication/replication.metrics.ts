import { Injectable } from '@nestjs/common';
import { Metrics } from '@cloudstore/observability';
import { Counter } from 'prom-client';

/** What self-healing does, for alerting and dashboards; gauges of state are in ClusterStatusService. */
@Injectable()
export class ReplicationMetrics {
  readonly replicasCopied: Counter;
  readonly replicasRemoved: Counter;
  readonly bytesCopied: Counter;
  readonly scrubbed: Counter<'result'>;

  constructor(metrics: Metrics) {
    const registers = [metrics.registry];
    this.replicasCopied = new Counter({
      name: 'cloudstore_replicas_copied_total',
      help: 'Replicas created by repair, re-replication, drain and rebalance.',
      registers,
    });
    this.replicasRemoved = new Counter({
      name: 'cloudstore_replicas_removed_total',
      help: 'Surplus, broken or drained replicas removed.',
      registers,
    });
    this.bytesCopied = new Counter({
      name: 'cloudstore_replication_bytes_total',
      help: 'Bytes copied between nodes to restore or move replicas.',
      registers,
    });
    this.scrubbed = new Counter({
      name: 'cloudstore_scrubbed_replicas_total',
      help: 'Replicas re-read by the scrubber, by result (ok, corrupt, missing, unavailable).',
      labelNames: ['result'],
      registers,
    });
  }
}
