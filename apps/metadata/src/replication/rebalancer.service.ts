import { Inject, Injectable } from '@nestjs/common';
import type { MetadataConfig } from '@cloudstore/config';
import { LOGGER, type Logger } from '@cloudstore/observability';
import type { Redis } from 'ioredis';
import { METADATA_CONFIG, METADATA_REDIS } from '../metadata.tokens';
import { effectiveReplicationFactor, rankNodes } from '../placement/rendezvous-placement';
import { ReplicationRepository } from './replication.repository';
import { isHealthy, ReplicationService } from './replication.service';

const BATCH = 200;

/**
 * Moves replicas toward where the placement would put them today, a few at a time: when a node
 * joins, it gets its share of existing chunks (rendezvous hashing gives it about 1/N of them)
 * without a burst. Walks all chunks in id order across runs, at most
 * REBALANCE_BYTES_PER_SECOND × REBALANCE_INTERVAL_SECONDS bytes per run.
 */
@Injectable()
export class RebalancerService {
  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    @Inject(METADATA_REDIS) private readonly redis: Redis,
    private readonly replicas: ReplicationRepository,
    private readonly replication: ReplicationService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private get cursorKey(): string {
    return `${this.config.REDIS_KEY_PREFIX}:rebalance:cursor`;
  }

  async run(): Promise<{ moved: number; bytes: number }> {
    let budget = this.config.REBALANCE_BYTES_PER_SECOND * this.config.REBALANCE_INTERVAL_SECONDS;
    const nodes = await this.replication.placementNodes();
    const target = effectiveReplicationFactor(this.config.REPLICATION_FACTOR, nodes.length);
    let cursor = (await this.redis.get(this.cursorKey)) ?? '';
    let moved = 0;
    let bytes = 0;
    while (budget > 0) {
      const ids = await this.replicas.liveChunksAfter(cursor, BATCH);
      if (ids.length === 0) {
        cursor = '';
        break;
      }
      for (const id of ids) {
        cursor = id;
        const chunk = await this.replicas.chunkForRepair(id);
        if (!chunk) continue;
        const healthy = chunk.replicas.filter(isHealthy).map((r) => r.nodeId);
        // Only chunks at their target move; the others are the replication jobs' to fix.
        if (healthy.length !== target) continue;
        const ideal = rankNodes(chunk.id, chunk.sizeBytes, nodes).slice(0, target);
        const from = healthy.find((nodeId) => !ideal.some((n) => n.nodeId === nodeId));
        const to = ideal.find((n) => !healthy.includes(n.nodeId));
        if (!from || !to) continue;
        try {
          const done = await this.replication.relocate(chunk, from, to);
          budget -= done;
          bytes += done;
          moved += 1;
        } catch (error) {
          this.logger.warn(
            { err: error, chunkId: id, from, to: to.nodeId },
            'could not move a replica; the next run tries again',
          );
        }
        if (budget <= 0) break;
      }
    }
    await this.redis.set(this.cursorKey, cursor);
    if (moved > 0) this.logger.info({ moved, bytes }, 'replicas rebalanced');
    return { moved, bytes };
  }
}
