import { Inject, Injectable, Optional } from '@nestjs/common';
import type { MetadataConfig } from '@cloudstore/config';
import { LOGGER, type Logger } from '@cloudstore/observability';
import type { Redis } from 'ioredis';
import { JobQueues } from '../jobs/job-queues';
import { METADATA_CONFIG, METADATA_REDIS } from '../metadata.tokens';
import { NodeRegistryRepository, type NodeWithLiveness } from '../node-registry/node-registry.repository';
import { effectiveReplicationFactor } from '../placement/rendezvous-placement';
import { ReplicationRepository } from './replication.repository';

/** How much one check does at most; the rest is done by the next checks. */
export interface CheckLimits {
  /** Repairs queued per check. */
  readonly batch: number;
  /** Replicas of a node read per page of its walk (keyset by chunk id). */
  readonly walkPage: number;
  /** Replicas of nodes walked per check: a long walk goes on at the next check. */
  readonly walkBudget: number;
}

export const REPLICATION_CHECK_LIMITS = Symbol('REPLICATION_CHECK_LIMITS');
export const DEFAULT_CHECK_LIMITS: CheckLimits = { batch: 5000, walkPage: 5000, walkBudget: 50_000 };

/**
 * A walk of a node that does not count (down, draining) is done again after this, as a safety
 * net for repairs that failed for good meanwhile.
 */
export const REWALK_SECONDS = 15 * 60;

export interface CheckOutcome {
  readonly queued: number;
  /** Replicas read by node walks in this check. */
  readonly walked: number;
  readonly drained: string[];
}

interface WalkState {
  /** What the node looked like when its walk started: a change starts a new walk. */
  readonly signature: string;
  /** Last chunk id walked; '' before the first page. */
  readonly cursor: string;
  readonly done: boolean;
}

/**
 * Finds the chunks that need repair, in proportion to the damage rather than to the cluster:
 * each check reads by index the chunks with a replica not ok or fewer ok replicas than the
 * target, and walks in pages the replicas of every node whose standing changed since its last
 * walk (gone down, come back, started draining, or the target it is judged by moved): that is
 * where a node event puts chunks under or over their target. The walks' progress is kept in
 * Redis; lost, a walk starts over, which is safe.
 */
@Injectable()
export class ReplicationCheckService {
  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    @Inject(METADATA_REDIS) private readonly redis: Redis,
    private readonly replicas: ReplicationRepository,
    private readonly nodes: NodeRegistryRepository,
    private readonly queues: JobQueues,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(REPLICATION_CHECK_LIMITS) private readonly limits: CheckLimits = DEFAULT_CHECK_LIMITS,
  ) {}

  /** Queues a repair for chunks off their target, and marks drained the nodes left empty. */
  async run(): Promise<CheckOutcome> {
    const nodes = await this.nodes.listWithLiveness(this.config.NODE_DOWN_AFTER_SECONDS);
    const target = effectiveReplicationFactor(this.config.REPLICATION_FACTOR, nodes.filter(counts).length);
    const queued = new Set<string>();
    const queue = async (chunkIds: readonly string[]) => {
      for (const chunkId of chunkIds) {
        if (queued.has(chunkId)) continue;
        queued.add(chunkId);
        await this.queues.replicate(chunkId);
      }
    };
    const { batch, walkBudget } = this.limits;
    await queue(await this.replicas.findDamagedChunks(batch));
    let walked = 0;
    const enough = () => walked >= walkBudget || queued.size >= batch;
    for (const node of nodes) {
      if (enough()) break;
      walked += await this.walk(node, target, queue, (more) => walked + more >= walkBudget || queued.size >= batch);
    }
    const drained: string[] = [];
    for (const node of nodes) {
      if (node.state === 'draining' && (await this.replicas.replicaCountOnNode(node.nodeId)) === 0) {
        await this.nodes.setState(node.nodeId, 'drained');
        drained.push(node.nodeId);
        this.logger.info({ nodeId: node.nodeId }, 'node drained: it holds no replica and can be removed');
      }
    }
    return { queued: queued.size, walked, drained };
  }

  /**
   * Walks a node's replicas from where its walk stopped, page by page, queueing the chunks that
   * need work, until done or `enough(replicas read so far)`. Returns the replicas read.
   */
  private async walk(
    node: NodeWithLiveness,
    target: number,
    queue: (chunkIds: readonly string[]) => Promise<void>,
    enough: (walked: number) => boolean,
  ): Promise<number> {
    // A node that counts changes nothing when the target moves (chunks below it are found by
    // index); one that does not count holds chunks whose need depends on the target.
    const signature = counts(node)
      ? `counts:${this.config.REPLICATION_FACTOR}`
      : `${node.alive ? 'up' : 'down'}:${node.state}:${target}`;
    const key = `${this.config.REDIS_KEY_PREFIX}:replication-check:walk:${node.nodeId}`;
    const saved = parseWalk(await this.redis.get(key));
    if (saved?.signature === signature && saved.done) return 0;
    let cursor = saved?.signature === signature ? saved.cursor : '';
    let walked = 0;
    let done = false;
    while (!done) {
      const page = await this.replicas.chunkIdsOnNodeAfter(node.nodeId, cursor, this.limits.walkPage);
      walked += page.length;
      await queue(await this.replicas.needingWork(page));
      cursor = page.at(-1) ?? cursor;
      done = page.length < this.limits.walkPage;
      if (enough(walked)) break;
    }
    const state: WalkState = { signature, cursor, done };
    if (counts(node)) await this.redis.set(key, JSON.stringify(state));
    else await this.redis.set(key, JSON.stringify(state), 'EX', REWALK_SECONDS);
    if (walked > 0) this.logger.info({ nodeId: node.nodeId, signature, walked, done }, 'walked a node for repairs');
    return walked;
  }
}

/** Whether the node's ok replicas count toward the factor: it is live and active. */
function counts(node: NodeWithLiveness): boolean {
  return node.alive && node.state === 'active';
}

function parseWalk(text: string | null): WalkState | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as WalkState;
  } catch {
    return undefined;
  }
}
