import { Inject, Injectable } from '@nestjs/common';
import {
  chunkExists,
  deleteChunk,
  encodeChunk,
  NodeHealth,
  putChunk,
  ReplicaReader,
  ReplicasExhaustedError,
  StorageNodeClients,
} from '@cloudstore/chunk-transfer';
import type { MetadataConfig } from '@cloudstore/config';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { METADATA_CONFIG } from '../metadata.tokens';
import { NodeRegistryRepository } from '../node-registry/node-registry.repository';
import { effectiveReplicationFactor, type PlacementNode, rankNodes } from '../placement/rendezvous-placement';
import { type HeldLock, LockLostError } from '@cloudstore/redis';
import { ChunkLocks } from '../jobs/chunk-locks';
import { ReplicationMetrics } from './replication.metrics';
import { type ChunkForRepair, type ReplicaOnNode, ReplicationRepository } from './replication.repository';

const TRANSFER_TIMEOUT_MS = 60_000;

export interface RepairOutcome {
  readonly copied: number;
  readonly removed: number;
  readonly bytesCopied: number;
}

const NOTHING: RepairOutcome = { copied: 0, removed: 0, bytesCopied: 0 };

/** A replica that counts toward the factor: good bytes on a live node that is not being drained. */
export function isHealthy(replica: ReplicaOnNode): boolean {
  return replica.state === 'ok' && replica.alive && replica.nodeState === 'active';
}

/**
 * Brings one chunk to its replication factor: copies it from a good replica (checked against its
 * SHA-256 on the way out and by the receiving node) to the nodes the placement ranks best,
 * preferring nodes that hold a broken copy (repair in place); then, once the chunk is at its
 * target, removes the replicas beyond it: extra ones, broken ones, those on draining nodes.
 * Idempotent: running it again on a healthy chunk does nothing.
 */
@Injectable()
export class ReplicationService {
  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    private readonly replicas: ReplicationRepository,
    private readonly nodes: NodeRegistryRepository,
    private readonly nodeClients: StorageNodeClients,
    private readonly reader: ReplicaReader,
    private readonly health: NodeHealth,
    private readonly metrics: ReplicationMetrics,
    private readonly locks: ChunkLocks,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The nodes new replicas may go to: live and active. */
  async placementNodes(): Promise<PlacementNode[]> {
    return (await this.nodes.listWithLiveness(this.config.NODE_DOWN_AFTER_SECONDS)).filter(
      (n) => n.alive && n.state === 'active',
    );
  }

  async repair(chunkId: string): Promise<RepairOutcome> {
    const outcome = await this.locks.withLock(chunkId, (lock) => this.repairLocked(chunkId, lock));
    if (!outcome) throw new Error(`chunk ${chunkId} is being changed by another job; will retry`);
    return outcome;
  }

  private async repairLocked(chunkId: string, lock: HeldLock): Promise<RepairOutcome> {
    const chunk = await this.replicas.chunkForRepair(chunkId);
    // Chunks of deleted files are kept (and repaired) until they are purged; uploads in progress are not ours.
    if (!chunk?.committed) return NOTHING;
    const nodes = await this.placementNodes();
    const target = effectiveReplicationFactor(this.config.REPLICATION_FACTOR, nodes.length);
    const ranking = rankNodes(chunk.id, chunk.sizeBytes, nodes);
    const healthy = chunk.replicas.filter(isHealthy).map((r) => r.nodeId);
    let copied = 0;
    if (healthy.length < target) {
      const brokenHere = new Set(chunk.replicas.filter((r) => r.state !== 'ok').map((r) => r.nodeId));
      // Suspect nodes last: a node that stopped answering gets new replicas only if nothing else can.
      const candidates = ranking
        .filter((n) => !healthy.includes(n.nodeId))
        .sort(
          (a, b) =>
            Number(this.health.condition(a.nodeId) === 'suspect') - Number(this.health.condition(b.nodeId) === 'suspect') ||
            Number(brokenHere.has(b.nodeId)) - Number(brokenHere.has(a.nodeId)),
        );
      if (healthy.length + candidates.length < target)
        throw new Error(`no node has room for another replica of chunk ${chunk.id}`);
      const data = await this.readGoodCopy(chunk, lock);
      for (const node of candidates) {
        if (healthy.length >= target) break;
        try {
          if (!(await this.copyTo(chunk, node, data, lock))) return { copied, removed: 0, bytesCopied: copied * chunk.sizeBytes };
          healthy.push(node.nodeId);
          copied += 1;
          this.metrics.replicasCopied.inc();
          this.metrics.bytesCopied.inc(data.length);
        } catch (error) {
          if (error instanceof LockLostError) throw error;
          this.logger.warn(
            { err: error, chunkId: chunk.id, nodeId: node.nodeId },
            'could not copy a chunk to a node; trying the next',
          );
        }
      }
      if (healthy.length < target) throw new Error(`chunk ${chunk.id} has ${healthy.length} of ${target} replicas; will retry`);
    }
    const removed = await this.trim(chunk, healthy, target, ranking, lock);
    return { copied, removed, bytesCopied: copied * chunk.sizeBytes };
  }

  /**
   * Moves one replica of a chunk from `fromNodeId` to `to` (the rebalancer's step): the new copy
   * is written and recorded before the old one is removed. Returns the bytes moved.
   */
  async relocate(chunk: ChunkForRepair, fromNodeId: string, to: PlacementNode): Promise<number> {
    return (await this.locks.withLock(chunk.id, (lock) => this.relocateLocked(chunk, fromNodeId, to, lock))) ?? 0;
  }

  private async relocateLocked(seen: ChunkForRepair, fromNodeId: string, to: PlacementNode, lock: HeldLock): Promise<number> {
    // Read again under the lock: the file may have been purged, or the replica moved, since.
    const chunk = await this.replicas.chunkForRepair(seen.id);
    const from = chunk?.replicas.find((r) => r.nodeId === fromNodeId);
    if (!chunk?.committed || !from?.alive) return 0;
    const data = await this.readGoodCopy(chunk, lock);
    if (!(await this.copyTo(chunk, to, data, lock))) return 0;
    this.metrics.replicasCopied.inc();
    this.metrics.bytesCopied.inc(data.length);
    await lock.fence();
    await deleteChunk(this.nodeClients.get(from.address), chunk.id);
    await lock.fence();
    await this.replicas.forgetReplica(chunk.id, from.nodeId);
    this.metrics.replicasRemoved.inc();
    return data.length;
  }

  /**
   * Writes a copy to a node and records it; false, with the copy removed again, when the chunk's
   * file was purged while it was written (the purge does not wait for the chunk's lock). With the
   * lock lost while the bytes were sent, nothing is recorded nor removed (the lock's next holder
   * may be writing the same copy): an unrecorded copy is the node inventory's to remove.
   */
  private async copyTo(chunk: ChunkForRepair, node: PlacementNode, data: Buffer, lock: HeldLock): Promise<boolean> {
    const client = this.nodeClients.get(node.address);
    await putChunk(client, chunk.id, chunk.sha256, encodeChunk(data), TRANSFER_TIMEOUT_MS);
    await lock.fence();
    if (await this.replicas.recordReplica(chunk.id, node.nodeId)) return true;
    await deleteChunk(client, chunk.id).catch((error: unknown) =>
      this.logger.warn({ err: error, chunkId: chunk.id, nodeId: node.nodeId }, 'could not remove a copy of a purged chunk'),
    );
    return false;
  }

  /**
   * Keeps the `target` healthy replicas the placement ranks best and removes every other copy
   * that can be removed now: surplus healthy ones, broken ones on live nodes, any on a node
   * being drained. Copies on nodes that are down are left alone until the node returns.
   */
  private async trim(
    chunk: ChunkForRepair,
    healthy: string[],
    target: number,
    ranking: PlacementNode[],
    lock: HeldLock,
  ): Promise<number> {
    // Never without a healthy copy to keep: with no live active node, the target is 0.
    if (target === 0 || healthy.length < target) return 0;
    const rank = (nodeId: string) => {
      const i = ranking.findIndex((n) => n.nodeId === nodeId);
      return i < 0 ? Number.MAX_SAFE_INTEGER : i;
    };
    const keep = new Set([...healthy].sort((a, b) => rank(a) - rank(b)).slice(0, target));
    const removable = chunk.replicas.filter((r) => !keep.has(r.nodeId) && (r.alive || r.nodeState !== 'active'));
    if (removable.length === 0) return 0;
    // The metadata may be behind a node's disk (wiped while away): see the copies kept before removing any.
    for (const nodeId of keep) {
      const kept = chunk.replicas.find((r) => r.nodeId === nodeId);
      if (kept && !(await chunkExists(this.nodeClients.get(kept.address), chunk.id))) {
        await lock.fence();
        await this.replicas.markReplica(chunk.id, nodeId, 'missing');
        throw new Error(`replica of chunk ${chunk.id} on ${nodeId} is gone; will repair before trimming`);
      }
    }
    let removed = 0;
    for (const replica of removable) {
      await lock.fence();
      if (replica.alive) {
        try {
          await deleteChunk(this.nodeClients.get(replica.address), chunk.id);
        } catch (error) {
          this.logger.warn(
            { err: error, chunkId: chunk.id, nodeId: replica.nodeId },
            'could not remove a surplus replica; will retry',
          );
          continue;
        }
      }
      await lock.fence();
      await this.replicas.forgetReplica(chunk.id, replica.nodeId);
      removed += 1;
      this.metrics.replicasRemoved.inc();
    }
    return removed;
  }

  /** The chunk's bytes from a replica that gives them intact (hedged like a download); a bad one is marked for repair. */
  private async readGoodCopy(chunk: ChunkForRepair, lock: HeldLock): Promise<Buffer> {
    const sources = chunk.replicas
      .filter((r) => r.state === 'ok' && r.alive)
      .sort((a, b) => Number(b.nodeState === 'active') - Number(a.nodeState === 'active'));
    const broken: { nodeId: string; problem: 'missing' | 'corrupt' }[] = [];
    try {
      return await this.reader.read(
        { chunkId: chunk.id, size: chunk.sizeBytes, sha256: chunk.sha256, replicas: sources },
        (source, error) => {
          this.logger.warn(
            { chunkId: chunk.id, nodeId: source.nodeId, problem: error.problem },
            'a source replica failed its check',
          );
          if (error.problem !== 'unavailable') broken.push({ nodeId: source.nodeId, problem: error.problem });
        },
      );
    } catch (error) {
      if (error instanceof ReplicasExhaustedError)
        throw new Error(`no intact replica of chunk ${chunk.id} can be read now; will retry`, { cause: error });
      throw error;
    } finally {
      for (const { nodeId, problem } of broken) {
        await lock.fence();
        await this.replicas.markReplica(chunk.id, nodeId, problem);
      }
    }
  }
}
