import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { MetadataConfig } from '@cloudstore/config';
import { QUEUES, type RunningWorker, startWorker } from '@cloudstore/jobs';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { type Job, UnrecoverableError } from 'bullmq';
import { MAINTENANCE_JOBS, type ReconcileNodeJob, type ReplicateChunkJob } from '../jobs/job-queues';
import { AuditChainMonitor } from '../audit/audit-chain.monitor';
import { AuditRetention } from '../audit/audit-retention';
import { METADATA_CONFIG } from '../metadata.tokens';
import { NodeInventoryService } from './node-inventory.service';
import { RebalancerService } from './rebalancer.service';
import { ReplicationCheckService } from './replication-check.service';
import { ReplicationService } from './replication.service';
import { ScrubberService } from './scrubber.service';

/**
 * The workers of self-healing: `replication` copies chunks (REPAIR_CONCURRENCY at once), and
 * `maintenance` runs one job at a time: the replication check (which queues repairs and finishes
 * drains), the scrubber, the rebalancer, node inventories, and the audit chain's daily
 * verification and retention.
 */
@Injectable()
export class ReplicationProcessors implements OnApplicationBootstrap, OnApplicationShutdown {
  private workers: RunningWorker[] = [];

  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    private readonly replication: ReplicationService,
    private readonly check: ReplicationCheckService,
    private readonly scrubber: ScrubberService,
    private readonly rebalancer: RebalancerService,
    private readonly inventory: NodeInventoryService,
    private readonly auditChain: AuditChainMonitor,
    private readonly auditRetention: AuditRetention,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const { REDIS_KEY_PREFIX } = this.config;
    this.workers = [
      startWorker<ReplicateChunkJob>(
        QUEUES.replication,
        this.config,
        REDIS_KEY_PREFIX,
        (job) => this.replication.repair(job.data.chunkId),
        this.logger,
        this.config.REPAIR_CONCURRENCY,
      ),
      startWorker(QUEUES.maintenance, this.config, REDIS_KEY_PREFIX, (job) => this.maintain(job), this.logger, 1),
    ];
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }

  /** Runs one maintenance job; exported for its test. */
  async maintain(job: Pick<Job, 'name' | 'data'>): Promise<unknown> {
    switch (job.name) {
      case MAINTENANCE_JOBS.checkReplication:
        return this.check.run();
      case MAINTENANCE_JOBS.scrub:
        return this.scrubber.run();
      case MAINTENANCE_JOBS.rebalance:
        return this.rebalancer.run();
      case MAINTENANCE_JOBS.reconcileNode:
        return this.inventory.reconcile((job.data as ReconcileNodeJob).nodeId);
      case MAINTENANCE_JOBS.verifyAuditChain:
        return this.auditChain.run();
      case MAINTENANCE_JOBS.pruneAuditLog:
        return this.auditRetention.prune();
      default:
        // No retry can teach this code a job it does not know: fail it at once, kept for inspection.
        throw new UnrecoverableError(`unknown maintenance job ${job.name}`);
    }
  }
}
