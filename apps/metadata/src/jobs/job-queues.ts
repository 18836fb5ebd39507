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
} as const;

export interface CollectUploadJob {
  readonly uploadId: string;
}

/** The queues the metadata service feeds, and the repeatable jobs it schedules. */
@Injectable()
export class JobQueues implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly connection: Redis;
  readonly garbageCollection: Queue;

  constructor(@Inject(METADATA_CONFIG) private readonly config: MetadataConfig) {
    this.connection = createJobsConnection(config.REDIS_URL);
    this.garbageCollection = createQueue(QUEUES.garbageCollection, this.connection, config.REDIS_KEY_PREFIX);
  }

  async onApplicationBootstrap(): Promise<void> {
    // One schedule for the whole cluster, however many metadata replicas run.
    const every = Math.min(60, Math.max(1, Math.floor(this.config.UPLOAD_IDLE_TIMEOUT_SECONDS / 2))) * 1000;
    await this.garbageCollection.upsertJobScheduler(GC_JOBS.sweepIdleUploads, { every }, { name: GC_JOBS.sweepIdleUploads });
  }

  /** Queues the removal of an aborted upload's chunks; queuing it twice runs it once. */
  async collectUpload(uploadId: string): Promise<void> {
    const job: CollectUploadJob = { uploadId };
    await this.garbageCollection.add(GC_JOBS.collectUpload, job, { jobId: `${GC_JOBS.collectUpload}-${uploadId}` });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.garbageCollection.close();
    this.connection.disconnect();
  }
}
