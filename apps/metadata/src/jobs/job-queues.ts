import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { MetadataConfig } from '@cloudstore/config';
import { createJobsConnection, createQueue, QUEUES } from '@cloudstore/jobs';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { METADATA_CONFIG } from '../metadata.tokens';

/** Jobs of the garbage-collection queue. */
export const GC_JOBS = {
  collectUpload: 'collect-upload',
  sweepIdleUploads: 'sweep-idle-uploads',
  /** Purges the files whose time in the trash is over, then collects their chunks. */
  purgeTrash: 'purge-trash',
  collectOrphanChunks: 'collect-orphan-chunks',
  /** Erases a user's data once more, a while after the erasure (see UserErasureService). */
  eraseUser: 'erase-user',
} as const;

export interface EraseUserJob {
  readonly userId: string;
  readonly pseudonym: string;
}

/** How long after an erasure it runs again: longer than any call under way at the time can take to land. */
export const ERASURE_REPEAT_DELAY_MS = 60_000;

/** Jobs of the maintenance queue. */
export const MAINTENANCE_JOBS = {
  checkReplication: 'check-replication',
  scrub: 'scrub',
  rebalance: 'rebalance',
  reconcileNode: 'reconcile-node',
  verifyAuditChain: 'verify-audit-chain',
  pruneAuditLog: 'prune-audit-log',
} as const;

/** The audit chain is verified end to end, and pruned past its retention, this often. */
export const AUDIT_CHAIN_JOB_EVERY_MS = 86_400_000;

export const REPLICATE_CHUNK_JOB = 'replicate-chunk';

/** The scrubber works in slices of at most this long, so its byte rate stays even. */
export const SCRUB_TICK_SECONDS = 10;

export interface CollectUploadJob {
  readonly uploadId: string;
}

export interface ReplicateChunkJob {
  readonly chunkId: string;
}

export interface ReconcileNodeJob {
  readonly nodeId: string;
}

export type JobCounts = Readonly<Record<'waiting' | 'active' | 'failed' | 'completed' | 'delayed', number>>;

async function jobCounts(queue: Queue): Promise<JobCounts> {
  const counts = await queue.getJobCounts('waiting', 'active', 'failed', 'completed', 'delayed', 'prioritized');
  return {
    waiting: (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0),
    active: counts['active'] ?? 0,
    failed: counts['failed'] ?? 0,
    completed: counts['completed'] ?? 0,
    delayed: counts['delayed'] ?? 0,
  };
}

/**
 * How often a sweep for things older than `seconds` runs: half that, between a second and a
 * minute, so nothing waits much past its time.
 */
function sweepIntervalMs(seconds: number): number {
  return Math.min(60, Math.max(1, Math.floor(seconds / 2))) * 1000;
}

/**
 * Adds a job under a fixed id, so that while one is waiting or running another is not added; a
 * finished one (done, or failed for good) is removed first, so the id is free for the next time.
 */
async function addOnce<T>(queue: Queue, name: string, jobId: string, data: T): Promise<void> {
  const existing = await queue.getJob(jobId);
  if (existing && ((await existing.isCompleted()) || (await existing.isFailed()))) await existing.remove();
  await queue.add(name, data, { jobId });
}

/**
 * The queues the metadata service feeds, and the repeatable jobs it schedules. Schedules are
 * upserted at every start, so they survive a restart of Redis without persistence too; the work
 * itself is always derived again from the database by the replication check.
 */
@Injectable()
export class JobQueues implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly connection: Redis;
  readonly garbageCollection: Queue;
  readonly replication: Queue;
  readonly maintenance: Queue;

  constructor(@Inject(METADATA_CONFIG) private readonly config: MetadataConfig) {
    this.connection = createJobsConnection(config);
    this.garbageCollection = createQueue(QUEUES.garbageCollection, this.connection, config.REDIS_KEY_PREFIX);
    this.replication = createQueue(QUEUES.replication, this.connection, config.REDIS_KEY_PREFIX);
    this.maintenance = createQueue(QUEUES.maintenance, this.connection, config.REDIS_KEY_PREFIX);
  }

  async onApplicationBootstrap(): Promise<void> {
    // One schedule each for the whole cluster, however many metadata replicas run.
    await this.garbageCollection.upsertJobScheduler(
      GC_JOBS.sweepIdleUploads,
      { every: sweepIntervalMs(Math.min(this.config.UPLOAD_IDLE_TIMEOUT_SECONDS, this.config.UPLOAD_EXPIRY_SECONDS)) },
      { name: GC_JOBS.sweepIdleUploads },
    );
    await this.garbageCollection.upsertJobScheduler(
      GC_JOBS.purgeTrash,
      { every: sweepIntervalMs(this.config.TRASH_RETENTION_SECONDS) },
      { name: GC_JOBS.purgeTrash },
    );
    await this.maintenance.upsertJobScheduler(
      MAINTENANCE_JOBS.checkReplication,
      { every: this.config.REPLICATION_CHECK_INTERVAL_SECONDS * 1000 },
      { name: MAINTENANCE_JOBS.checkReplication },
    );
    await this.maintenance.upsertJobScheduler(
      MAINTENANCE_JOBS.scrub,
      { every: Math.min(SCRUB_TICK_SECONDS, this.config.SCRUB_INTERVAL_SECONDS) * 1000 },
      { name: MAINTENANCE_JOBS.scrub },
    );
    for (const name of [MAINTENANCE_JOBS.verifyAuditChain, MAINTENANCE_JOBS.pruneAuditLog])
      await this.maintenance.upsertJobScheduler(name, { every: AUDIT_CHAIN_JOB_EVERY_MS }, { name });
    if (this.config.REBALANCE_INTERVAL_SECONDS > 0) {
      await this.maintenance.upsertJobScheduler(
        MAINTENANCE_JOBS.rebalance,
        { every: this.config.REBALANCE_INTERVAL_SECONDS * 1000 },
        { name: MAINTENANCE_JOBS.rebalance },
      );
    } else {
      await this.maintenance.removeJobScheduler(MAINTENANCE_JOBS.rebalance);
    }
  }

  /** Queues the removal of an aborted upload's chunks; queuing it twice runs it once. */
  async collectUpload(uploadId: string): Promise<void> {
    const job: CollectUploadJob = { uploadId };
    await addOnce(this.garbageCollection, GC_JOBS.collectUpload, `${GC_JOBS.collectUpload}-${uploadId}`, job);
  }

  /** Queues the removal of purged files' chunks from their nodes, unless such a job is already waiting. */
  async collectOrphanChunks(): Promise<void> {
    await addOnce(this.garbageCollection, GC_JOBS.collectOrphanChunks, GC_JOBS.collectOrphanChunks, {});
  }

  /** Queues the second pass of a user's erasure, after ERASURE_REPEAT_DELAY_MS; queuing it twice runs it once. */
  async eraseUserAgain(job: EraseUserJob): Promise<void> {
    await this.garbageCollection.add(GC_JOBS.eraseUser, job, {
      jobId: `${GC_JOBS.eraseUser}-${job.userId}`,
      delay: ERASURE_REPEAT_DELAY_MS,
      // The job links the user's id to the pseudonym: it goes as soon as it is done.
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600 },
    });
  }

  /** Queues a repair of the chunk, once: while one is waiting or running, another is not added. */
  async replicate(chunkId: string): Promise<void> {
    const job: ReplicateChunkJob = { chunkId };
    await addOnce(this.replication, REPLICATE_CHUNK_JOB, `${REPLICATE_CHUNK_JOB}-${chunkId}`, job);
  }

  /** Runs the replication check now rather than at its next interval (after a drain starts, a disk is lost). */
  async checkReplicationNow(): Promise<void> {
    await this.maintenance.add(MAINTENANCE_JOBS.checkReplication, {}, {});
  }

  /** Compares what a (re)started node holds with what the metadata says it holds. */
  async reconcileNode(nodeId: string): Promise<void> {
    const job: ReconcileNodeJob = { nodeId };
    await this.maintenance.add(MAINTENANCE_JOBS.reconcileNode, job, {
      jobId: `${MAINTENANCE_JOBS.reconcileNode}-${nodeId}-${Date.now()}`,
    });
  }

  async replicationJobCounts(): Promise<JobCounts> {
    return jobCounts(this.replication);
  }

  async maintenanceJobCounts(): Promise<JobCounts> {
    return jobCounts(this.maintenance);
  }

  /**
   * The repair jobs as operators and "fully replicated" read them: waiting and active count the
   * maintenance queue too (a node inventory or a check not yet run may still find damage); failed,
   * completed and delayed are the replication queue's (the maintenance queue always holds its
   * next scheduled runs as delayed).
   */
  async repairJobCounts(): Promise<JobCounts> {
    const [replication, maintenance] = await Promise.all([this.replicationJobCounts(), this.maintenanceJobCounts()]);
    return {
      ...replication,
      waiting: replication.waiting + maintenance.waiting,
      active: replication.active + maintenance.active,
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.garbageCollection.close(), this.replication.close(), this.maintenance.close()]);
    this.connection.disconnect();
  }
}
