import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { deleteChunk, StorageNodeClients } from '@cloudstore/chunk-transfer';
import type { MetadataConfig } from '@cloudstore/config';
import { QUEUES, type RunningWorker, startWorker } from '@cloudstore/jobs';
import { LOGGER, type Logger } from '@cloudstore/observability';
import type { Job } from 'bullmq';
import { ChunksRepository } from '../files/chunks.repository';
import { type CollectUploadJob, GC_JOBS } from '../jobs/job-queues';
import { METADATA_CONFIG } from '../metadata.tokens';
import { NodeRegistryRepository } from '../node-registry/node-registry.repository';
import { UploadsService } from '../uploads/uploads.service';

/**
 * Removes chunks that belong to no file: those of aborted uploads (on every node they may have
 * reached), and sweeps uploads whose gateway went away. A node that cannot be reached now keeps
 * its chunk on the list and the job is retried with backoff.
 */
@Injectable()
export class GarbageCollectionProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private running: RunningWorker | undefined;

  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    private readonly chunks: ChunksRepository,
    private readonly nodes: NodeRegistryRepository,
    private readonly nodeClients: StorageNodeClients,
    private readonly uploads: UploadsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.running = startWorker(
      QUEUES.garbageCollection,
      this.config.REDIS_URL,
      this.config.REDIS_KEY_PREFIX,
      (job) => this.process(job),
      this.logger,
      2,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running?.close();
  }

  private async process(job: Job): Promise<unknown> {
    switch (job.name) {
      case GC_JOBS.collectUpload:
        return this.collectUpload((job.data as CollectUploadJob).uploadId);
      case GC_JOBS.sweepIdleUploads:
        return this.uploads.abortIdle();
      default:
        throw new Error(`unknown garbage-collection job ${job.name}`);
    }
  }

  async collectUpload(uploadId: string): Promise<{ chunks: number }> {
    const chunks = await this.chunks.uncommittedOfUpload(uploadId);
    const nodes = new Map((await this.nodes.listWithLiveness(this.config.NODE_DOWN_AFTER_SECONDS)).map((n) => [n.nodeId, n]));
    let unreachable = 0;
    for (const chunk of chunks) {
      const remaining: string[] = [];
      for (const nodeId of chunk.plannedNodeIds) {
        const node = nodes.get(nodeId);
        if (!node) continue;
        try {
          await deleteChunk(this.nodeClients.get(node.address), chunk.id);
        } catch (error) {
          remaining.push(nodeId);
          this.logger.debug({ err: error, nodeId, chunkId: chunk.id }, 'could not delete an abandoned chunk yet');
        }
      }
      await this.chunks.forgetNodes(chunk.id, remaining);
      unreachable += remaining.length;
    }
    if (unreachable > 0)
      throw new Error(`${unreachable} chunk replicas of upload ${uploadId} are on nodes that did not answer; retrying`);
    return { chunks: chunks.length };
  }
}
