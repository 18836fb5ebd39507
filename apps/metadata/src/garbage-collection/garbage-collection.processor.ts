import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { deleteChunk, StorageNodeClients } from '@cloudstore/chunk-transfer';
import type { MetadataConfig } from '@cloudstore/config';
import { QUEUES, type RunningWorker, startWorker } from '@cloudstore/jobs';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { type Job, UnrecoverableError } from 'bullmq';
import { ChunksRepository } from '../files/chunks.repository';
import { ChunkLocks } from '../jobs/chunk-locks';
import { type CollectUploadJob, type EraseUserJob, GC_JOBS } from '../jobs/job-queues';
import { DownloadLinksService } from '../links/download-links.service';
import { METADATA_CONFIG } from '../metadata.tokens';
import { NodeRegistryRepository, type NodeWithLiveness } from '../node-registry/node-registry.repository';
import { TrashService } from '../trash/trash.service';
import { UploadsService } from '../uploads/uploads.service';
import { UserErasureService } from '../user-erasure/user-erasure.service';

/** Chunks of purged files read per query of the collection. */
const ORPHAN_BATCH = 200;

/**
 * Removes chunks that belong to no file, from every node they may have reached: those of
 * aborted uploads, and those of files purged from the trash (which the trash sweep it also runs
 * produces; it also deletes download links long expired). Sweeps uploads whose gateway went away, and runs the second pass of erasures. A chunk a node could not delete now stays
 * recorded: the job is retried with backoff, and the sweeps come back to it.
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
    private readonly trash: TrashService,
    private readonly locks: ChunkLocks,
    private readonly erasure: UserErasureService,
    private readonly links: DownloadLinksService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.running = startWorker(
      QUEUES.garbageCollection,
      this.config,
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
        return {
          aborted: await this.uploads.abortIdle(),
          expired: await this.uploads.abortExpired(),
          recollected: await this.uploads.recollectLeftovers(),
        };
      case GC_JOBS.purgeTrash:
        return {
          purged: await this.trash.purgeExpired(),
          expiredLinks: await this.links.deleteExpired(),
          ...(await this.collectOrphanChunks()),
        };
      case GC_JOBS.collectOrphanChunks:
        return this.collectOrphanChunks();
      case GC_JOBS.eraseUser:
        return this.erasure.eraseAgain(job.data as EraseUserJob);
      default:
        // No retry can teach this code a job it does not know: fail it at once, kept for inspection.
        throw new UnrecoverableError(`unknown garbage-collection job ${job.name}`);
    }
  }

  async collectUpload(uploadId: string): Promise<{ chunks: number }> {
    const chunks = await this.chunks.uncommittedOfUpload(uploadId);
    const nodes = await this.nodesById();
    let failed = 0;
    for (const chunk of chunks) failed += await this.removeFromNodes(chunk.id, chunk.plannedNodeIds, nodes);
    if (failed > 0) throw new Error(`${failed} chunk replicas of upload ${uploadId} could not be removed; retrying`);
    return { chunks: chunks.length };
  }

  /**
   * Removes the chunks of purged files from their nodes, each under its lock and with its nodes
   * read under it: a repair that was copying one when its file was purged finishes (and records
   * or removes its copy) first.
   */
  async collectOrphanChunks(): Promise<{ collected: number }> {
    const nodes = await this.nodesById();
    let collected = 0;
    let failed = 0;
    let cursor = '';
    for (;;) {
      const orphanIds = await this.chunks.orphanIds(cursor, ORPHAN_BATCH);
      for (const chunkId of orphanIds) {
        const left = await this.locks.withLock(chunkId, async () => {
          const nodeIds = await this.chunks.nodesOfOrphan(chunkId);
          return nodeIds ? this.removeFromNodes(chunkId, nodeIds, nodes) : 0;
        });
        if (left === undefined || left > 0) failed += 1;
        else collected += 1;
      }
      cursor = orphanIds.at(-1) ?? cursor;
      if (orphanIds.length < ORPHAN_BATCH) break;
    }
    if (failed > 0) throw new Error(`${failed} chunks of purged files could not be removed yet; retrying`);
    return { collected };
  }

  private async nodesById(): Promise<Map<string, NodeWithLiveness>> {
    return new Map((await this.nodes.listWithLiveness(this.config.NODE_DOWN_AFTER_SECONDS)).map((n) => [n.nodeId, n]));
  }

  /**
   * Deletes the chunk from each node that may hold it and forgets those that confirmed; the
   * chunk's row goes with the last. A node no longer registered holds nothing; one that is down
   * keeps the chunk recorded for a later sweep, without failing this one. Returns how many live
   * nodes failed to delete it.
   */
  private async removeFromNodes(
    chunkId: string,
    nodeIds: readonly string[],
    nodes: Map<string, NodeWithLiveness>,
  ): Promise<number> {
    const remaining: string[] = [];
    let failed = 0;
    for (const nodeId of nodeIds) {
      const node = nodes.get(nodeId);
      if (!node) continue;
      if (!node.alive) {
        remaining.push(nodeId);
        continue;
      }
      try {
        await deleteChunk(this.nodeClients.get(node.address), chunkId);
      } catch (error) {
        remaining.push(nodeId);
        failed += 1;
        this.logger.debug({ err: error, nodeId, chunkId }, 'could not delete an unneeded chunk yet');
      }
    }
    // Nothing changed (its nodes are all down): no write, so waiting chunks cost the sweeps nothing.
    if (remaining.length === 0 || remaining.length < nodeIds.length) await this.chunks.forgetNodes(chunkId, remaining);
    return failed;
  }
}
