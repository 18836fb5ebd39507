import type { ClientReadableStream } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import { chunkExists, deleteChunk, StorageNodeClients } from '@cloudstore/chunk-transfer';
import type { MetadataConfig } from '@cloudstore/config';
import type { storageNodeApi } from '@cloudstore/contracts';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { JobQueues } from '../jobs/job-queues';
import { METADATA_CONFIG } from '../metadata.tokens';
import { NodeRegistryRepository } from '../node-registry/node-registry.repository';
import { ChunkLocks } from '../jobs/chunk-locks';
import { ReplicationRepository } from './replication.repository';

/**
 * Squares what a node that (re)started holds with what the metadata says it holds: replicas it
 * lost (a wiped disk) are dropped and queued for re-replication; chunks nobody needs any more
 * (removed while the node was away) are deleted from it. Chunks of uploads still in progress
 * are left alone.
 */
@Injectable()
export class NodeInventoryService {
  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    private readonly nodes: NodeRegistryRepository,
    private readonly replicas: ReplicationRepository,
    private readonly nodeClients: StorageNodeClients,
    private readonly queues: JobQueues,
    private readonly locks: ChunkLocks,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async reconcile(nodeId: string): Promise<{ lost: number; removed: number }> {
    const node = (await this.nodes.listWithLiveness(this.config.NODE_DOWN_AFTER_SECONDS)).find((n) => n.nodeId === nodeId);
    if (!node?.alive) return { lost: 0, removed: 0 };
    const client = this.nodeClients.get(node.address);
    const onNode = await this.inventory(client.raw, client.callOptions(120_000));
    const known = await this.replicas.chunkIdsOnNode(nodeId);
    // Each decision is taken again under the chunk's lock, against the database as it is then:
    // a repair may have copied or recorded the chunk since the listing.
    let lost = 0;
    for (const chunkId of [...known].filter((id) => !onNode.has(id))) {
      const forgotten = await this.locks.withLock(chunkId, async (lock) => {
        if ((await chunkExists(client, chunkId)) || !(await this.replicas.hasReplica(chunkId, nodeId))) return false;
        await lock.fence();
        await this.replicas.forgetReplica(chunkId, nodeId);
        return true;
      });
      if (forgotten) {
        lost += 1;
        await this.queues.replicate(chunkId);
      }
    }
    const unknown = [...onNode].filter((id) => !known.has(id));
    const pending = await this.replicas.pendingOnNode(nodeId, unknown);
    let removed = 0;
    for (const chunkId of unknown.filter((id) => !pending.has(id))) {
      const deleted = await this.locks.withLock(chunkId, async (lock) => {
        if (await this.replicas.hasReplica(chunkId, nodeId)) return false;
        await lock.fence();
        return deleteChunk(client, chunkId);
      });
      if (deleted) removed += 1;
    }
    if (lost > 0 || removed > 0) this.logger.info({ nodeId, lost, removed }, 'node inventory reconciled');
    return { lost, removed };
  }

  private async inventory(raw: StorageNodeClientRaw, options: object): Promise<Set<string>> {
    const call = (
      raw['listChunks'] as (
        req: storageNodeApi.ListChunksRequest,
        md: Metadata,
        options: object,
      ) => ClientReadableStream<storageNodeApi.ListChunksResponse>
    ).call(raw, {}, new Metadata(), options);
    const ids = new Set<string>();
    for await (const page of call as AsyncIterable<storageNodeApi.ListChunksResponse>)
      for (const chunk of page.chunks) ids.add(chunk.chunkId);
    return ids;
  }
}

type StorageNodeClientRaw = ReturnType<StorageNodeClients['get']>['raw'];
