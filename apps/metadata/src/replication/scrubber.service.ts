import { Inject, Injectable } from '@nestjs/common';
import { StorageNodeClients } from '@cloudstore/chunk-transfer';
import type { MetadataConfig } from '@cloudstore/config';
import { DomainError } from '@cloudstore/contracts';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { JobQueues, SCRUB_TICK_SECONDS } from '../jobs/job-queues';
import { METADATA_CONFIG } from '../metadata.tokens';
import { ReplicationMetrics } from './replication.metrics';
import { ReplicationRepository } from './replication.repository';

/**
 * Re-reads replicas whose last check is older than SCRUB_INTERVAL_SECONDS, oldest first, at most
 * SCRUB_BYTES_PER_SECOND: each node hashes its own copy (no bytes cross the network), and a copy
 * that is corrupt or gone is marked and queued for repair at once.
 */
@Injectable()
export class ScrubberService {
  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    private readonly replicas: ReplicationRepository,
    private readonly nodeClients: StorageNodeClients,
    private readonly queues: JobQueues,
    private readonly metrics: ReplicationMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(): Promise<{ checked: number; bad: number; bytes: number }> {
    const tickSeconds = Math.min(SCRUB_TICK_SECONDS, this.config.SCRUB_INTERVAL_SECONDS);
    let budget = this.config.SCRUB_BYTES_PER_SECOND * tickSeconds;
    const due = await this.replicas.replicasDueForScrub(this.config.SCRUB_INTERVAL_SECONDS, 1000);
    let checked = 0;
    let bad = 0;
    let bytes = 0;
    for (const replica of due) {
      const size = Number(replica.size_bytes);
      if (budget <= 0) break;
      budget -= size;
      const result = await this.check(replica.chunk_id, replica.node_id, replica.address, size, replica.sha256);
      this.metrics.scrubbed.inc({ result });
      checked += 1;
      bytes += size;
      if (result === 'corrupt' || result === 'missing') {
        bad += 1;
        await this.replicas.markReplica(replica.chunk_id, replica.node_id, result);
        await this.queues.replicate(replica.chunk_id);
        this.logger.warn(
          { chunkId: replica.chunk_id, nodeId: replica.node_id, result },
          'scrub found a bad replica; repair queued',
        );
      } else if (result === 'ok') {
        await this.replicas.markVerified(replica.chunk_id, replica.node_id);
      }
    }
    return { checked, bad, bytes };
  }

  private async check(
    chunkId: string,
    nodeId: string,
    address: string,
    size: number,
    sha256: string,
  ): Promise<'ok' | 'corrupt' | 'missing' | 'unavailable'> {
    try {
      const stat = await this.nodeClients.get(address).call('statChunk', { chunkId, computeSha256: true }, { timeoutMs: 60_000 });
      return stat.size === size && stat.sha256 === sha256 ? 'ok' : 'corrupt';
    } catch (error) {
      if (error instanceof DomainError && error.code === 'NOT_FOUND') return 'missing';
      this.logger.debug({ err: error, chunkId, nodeId }, 'could not scrub a replica now');
      return 'unavailable';
    }
  }
}
