import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { MetadataConfig } from '@cloudstore/config';
import type { DataSource } from 'typeorm';
import type { ReplicaState } from '../files/chunk-replica.entity';
import { METADATA_CONFIG } from '../metadata.tokens';
import type { NodeState } from '../node-registry/storage-node.entity';

export interface ReplicaOnNode {
  readonly nodeId: string;
  readonly address: string;
  readonly state: ReplicaState;
  readonly alive: boolean;
  readonly nodeState: NodeState;
}

export interface ChunkForRepair {
  readonly id: string;
  readonly sizeBytes: number;
  readonly sha256: string;
  /** The chunk belongs to a committed file (deleted or not, until purged): its replicas are kept at the factor. */
  readonly committed: boolean;
  readonly replicas: ReplicaOnNode[];
}

/**
 * Whether replica `r` on node `n` is healthy: state ok, on a live node that is active. The one
 * definition of a replica that counts toward the factor. `$1` is NODE_DOWN_AFTER_SECONDS.
 */
const HEALTHY = `r.state = 'ok' AND n.state = 'active' AND n.last_heartbeat_at > now() - make_interval(secs => $1)`;

/**
 * Of the committed chunks with ids in `$3`, those that need work: fewer or more `healthy`
 * replicas (state ok, on a live node that is active) than the target (REPLICATION_FACTOR `$2`
 * capped at the live active nodes), or a replica to remove once at target (broken ones on live
 * nodes, any on nodes being drained), most damaged first. Chunks of deleted files keep their
 * replicas until they are purged, so they count too. Each chunk is read on its own by primary
 * key (an aggregate in a lateral subquery is not flattened into a join, so the planner cannot
 * trade the lookups for a scan of all chunks). `$1` is NODE_DOWN_AFTER_SECONDS.
 */
const NEEDING_WORK = `
  WITH target AS (
    SELECT LEAST($2::int, count(*))::int AS n FROM metadata.storage_nodes
    WHERE last_heartbeat_at > now() - make_interval(secs => $1) AND state = 'active')
  SELECT k.id
  FROM unnest($3::text[]) AS ids(id)
  CROSS JOIN LATERAL (
    SELECT c.id,
           count(r.node_id) FILTER (WHERE ${HEALTHY}) AS healthy,
           count(r.node_id) FILTER (WHERE r.state <> 'ok' AND n.last_heartbeat_at > now() - make_interval(secs => $1)) AS broken,
           count(r.node_id) FILTER (WHERE n.state <> 'active') AS retiring
    FROM metadata.chunks c
    JOIN metadata.files f ON f.id = c.file_id
    LEFT JOIN metadata.chunk_replicas r ON r.chunk_id = c.id
    LEFT JOIN metadata.storage_nodes n ON n.node_id = r.node_id
    WHERE c.id = ids.id
    GROUP BY c.id) k
  CROSS JOIN target
  WHERE target.n > 0 AND (k.healthy <> target.n OR k.broken > 0 OR k.retiring > 0)
  ORDER BY k.healthy, k.id`;

/**
 * Where damage can be without a node event, each found by index in proportion to it: chunks with
 * a replica not ok, and committed chunks with fewer ok replicas (on any node) than the target
 * `$1`: those have fewer healthy ones too. `$2` caps each.
 */
const DAMAGED_CANDIDATES = `
  (SELECT r.chunk_id AS id FROM metadata.chunk_replicas r WHERE r.state <> 'ok' ORDER BY r.chunk_id LIMIT $2)
  UNION
  (SELECT c.id FROM metadata.chunks c WHERE c.file_id IS NOT NULL AND c.ok_replicas < $1 ORDER BY c.ok_replicas, c.id LIMIT $2)`;

/**
 * Chunks of live files with fewer healthy replicas than the target `$1`, counted in two disjoint
 * parts that each read only damage: chunks with fewer ok replicas than the target (by index),
 * and chunks at or above it in ok replicas whose ok replicas on the nodes `$2` that do not count
 * (down or retiring) bring them below it (from those nodes' replicas).
 */
const COUNT_UNDER_REPLICATED = `
  WITH uncounted AS (
    SELECT r.chunk_id, count(*) AS n FROM metadata.chunk_replicas r
    WHERE r.node_id = ANY($2::text[]) AND r.state = 'ok'
    GROUP BY r.chunk_id)
  SELECT
    (SELECT count(*) FROM metadata.chunks c JOIN metadata.files f ON f.id = c.file_id AND f.deleted_at IS NULL
     WHERE c.file_id IS NOT NULL AND c.ok_replicas < $1)
  + (SELECT count(*) FROM uncounted u
     JOIN metadata.chunks c ON c.id = u.chunk_id
     JOIN metadata.files f ON f.id = c.file_id AND f.deleted_at IS NULL
     WHERE c.ok_replicas >= $1 AND c.ok_replicas - u.n < $1) AS n`;

/**
 * Committed chunks (of files live or in the trash: the chunks repair keeps at the factor) of
 * which node `$2` holds an ok replica and no other node a healthy one: those that would have no
 * healthy copy left if it stopped. Its own replica counts whatever its standing (down, draining):
 * that copy is still the last. Read from the node's replicas, each other replica by primary key.
 */
const SOLE_COPIES = `
  SELECT count(*) AS n
  FROM metadata.chunk_replicas own
  JOIN metadata.chunks c ON c.id = own.chunk_id AND c.file_id IS NOT NULL
  WHERE own.node_id = $2 AND own.state = 'ok'
    AND NOT EXISTS (
      SELECT 1 FROM metadata.chunk_replicas r JOIN metadata.storage_nodes n ON n.node_id = r.node_id
      WHERE r.chunk_id = own.chunk_id AND r.node_id <> $2 AND ${HEALTHY})`;

/** SQL of replica health: which chunks need copies, which replicas need checking or removing. */
@Injectable()
export class ReplicationRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
  ) {}

  private get params(): [number, number] {
    return [this.config.NODE_DOWN_AFTER_SECONDS, this.config.REPLICATION_FACTOR];
  }

  /**
   * The target (REPLICATION_FACTOR capped at the nodes that count), and the nodes whose replicas
   * do not count now (down, draining, drained). Read first and passed as values, so the planner
   * sees them and picks the indexes.
   */
  private async standing(): Promise<{ target: number; uncounted: string[] }> {
    const rows = await this.dataSource.query<{ node_id: string; counts: boolean }[]>(
      `SELECT node_id, last_heartbeat_at > now() - make_interval(secs => $1) AND state = 'active' AS counts FROM metadata.storage_nodes`,
      [this.config.NODE_DOWN_AFTER_SECONDS],
    );
    const counting = rows.filter((r) => r.counts).length;
    return {
      target: Math.min(this.config.REPLICATION_FACTOR, counting),
      uncounted: rows.filter((r) => !r.counts).map((r) => r.node_id),
    };
  }

  /** Chunks of live files with fewer healthy replicas than the target. */
  async countUnderReplicated(): Promise<number> {
    const { target, uncounted } = await this.standing();
    const rows = await this.dataSource.query<{ n: string }[]>(COUNT_UNDER_REPLICATED, [target, uncounted]);
    return Number(rows[0]?.n ?? 0);
  }

  /** How many chunks would be left without a healthy replica if this node stopped now. */
  async countSoleCopies(nodeId: string): Promise<number> {
    const rows = await this.dataSource.query<{ n: string }[]>(SOLE_COPIES, [this.config.NODE_DOWN_AFTER_SECONDS, nodeId]);
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Chunks that need work among those damaged without a node event (a replica not ok, fewer ok
   * replicas than the target), at most `limit`, most damaged first. What a node going down,
   * coming back or draining does is found by walking that node's replicas instead.
   */
  async findDamagedChunks(limit: number): Promise<string[]> {
    const { target } = await this.standing();
    const candidates = await this.dataSource.query<{ id: string }[]>(DAMAGED_CANDIDATES, [target, limit]);
    return (await this.needingWork(candidates.map((c) => c.id))).slice(0, limit);
  }

  /** Of these chunks, those that need a copy or have a replica to remove, most damaged first. */
  async needingWork(chunkIds: readonly string[]): Promise<string[]> {
    if (chunkIds.length === 0) return [];
    const rows = await this.dataSource.query<{ id: string }[]>(NEEDING_WORK, [...this.params, chunkIds]);
    return rows.map((r) => r.id);
  }

  /** Ids of the chunks a node has a replica of, after `cursor` in id order: one page of a node's walk. */
  async chunkIdsOnNodeAfter(nodeId: string, cursor: string, limit: number): Promise<string[]> {
    const rows = await this.dataSource.query<{ chunk_id: string }[]>(
      `SELECT chunk_id FROM metadata.chunk_replicas WHERE node_id = $1 AND chunk_id > $2 ORDER BY chunk_id LIMIT $3`,
      [nodeId, cursor, limit],
    );
    return rows.map((r) => r.chunk_id);
  }

  async chunkForRepair(chunkId: string): Promise<ChunkForRepair | undefined> {
    const rows = await this.dataSource.query<
      {
        id: string;
        size_bytes: string;
        sha256: string;
        committed: boolean;
        node_id: string | null;
        address: string | null;
        state: ReplicaState | null;
        alive: boolean | null;
        node_state: NodeState | null;
      }[]
    >(
      `SELECT c.id, c.size_bytes, c.sha256, f.id IS NOT NULL AS committed,
              r.node_id, n.address, r.state, n.last_heartbeat_at > now() - make_interval(secs => $2) AS alive, n.state AS node_state
       FROM metadata.chunks c
       LEFT JOIN metadata.files f ON f.id = c.file_id
       LEFT JOIN metadata.chunk_replicas r ON r.chunk_id = c.id
       LEFT JOIN metadata.storage_nodes n ON n.node_id = r.node_id
       WHERE c.id = $1`,
      [chunkId, this.config.NODE_DOWN_AFTER_SECONDS],
    );
    const first = rows[0];
    if (!first) return undefined;
    return {
      id: first.id,
      sizeBytes: Number(first.size_bytes),
      sha256: first.sha256,
      committed: first.committed,
      replicas: rows
        .filter((r) => r.node_id && r.address && r.state && r.node_state)
        .map((r) => ({
          nodeId: r.node_id as string,
          address: r.address as string,
          state: r.state as ReplicaState,
          alive: r.alive === true,
          nodeState: r.node_state as NodeState,
        })),
    };
  }

  /**
   * Records a copy just written, if the chunk still belongs to a file: false when its file was
   * purged meanwhile (the copy is then the caller's to remove).
   */
  async recordReplica(chunkId: string, nodeId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `INSERT INTO metadata.chunk_replicas (chunk_id, node_id, state, verified_at)
       SELECT c.id, $2, 'ok', now() FROM metadata.chunks c WHERE c.id = $1 AND c.file_id IS NOT NULL
       ON CONFLICT (chunk_id, node_id) DO UPDATE SET state = 'ok', verified_at = now()
       RETURNING chunk_id`,
      [chunkId, nodeId],
    );
    return rows.length > 0;
  }

  async forgetReplica(chunkId: string, nodeId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM metadata.chunk_replicas WHERE chunk_id = $1 AND node_id = $2`, [chunkId, nodeId]);
  }

  async markReplica(chunkId: string, nodeId: string, state: ReplicaState): Promise<void> {
    await this.dataSource.query(`UPDATE metadata.chunk_replicas SET state = $3 WHERE chunk_id = $1 AND node_id = $2`, [
      chunkId,
      nodeId,
      state,
    ]);
  }

  async markVerified(chunkId: string, nodeId: string): Promise<void> {
    await this.dataSource.query(`UPDATE metadata.chunk_replicas SET verified_at = now() WHERE chunk_id = $1 AND node_id = $2`, [
      chunkId,
      nodeId,
    ]);
  }

  /** Replicas on live nodes not checked within `olderThanSeconds`, oldest check first. */
  replicasDueForScrub(
    olderThanSeconds: number,
    limit: number,
  ): Promise<{ chunk_id: string; node_id: string; address: string; size_bytes: string; sha256: string }[]> {
    return this.dataSource.query(
      `SELECT r.chunk_id, r.node_id, n.address, c.size_bytes, c.sha256
       FROM metadata.chunk_replicas r
       JOIN metadata.chunks c ON c.id = r.chunk_id AND c.file_id IS NOT NULL
       JOIN metadata.storage_nodes n ON n.node_id = r.node_id AND n.last_heartbeat_at > now() - make_interval(secs => $1)
       WHERE r.state = 'ok' AND r.verified_at < now() - make_interval(secs => $2)
       ORDER BY r.verified_at LIMIT $3`,
      [this.config.NODE_DOWN_AFTER_SECONDS, olderThanSeconds, limit],
    );
  }

  /** The chunks the metadata has on a node. */
  async chunkIdsOnNode(nodeId: string): Promise<Set<string>> {
    const rows = await this.dataSource.query<{ chunk_id: string }[]>(
      `SELECT chunk_id FROM metadata.chunk_replicas WHERE node_id = $1`,
      [nodeId],
    );
    return new Set(rows.map((r) => r.chunk_id));
  }

  async hasReplica(chunkId: string, nodeId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM metadata.chunk_replicas WHERE chunk_id = $1 AND node_id = $2`,
      [chunkId, nodeId],
    );
    return rows.length > 0;
  }

  /** Of these chunk ids, those the metadata still expects a node to be writing (an open upload planned it there). */
  async pendingOnNode(nodeId: string, chunkIds: readonly string[]): Promise<Set<string>> {
    if (chunkIds.length === 0) return new Set();
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT c.id FROM metadata.chunks c JOIN metadata.uploads u ON u.id = c.upload_id
       WHERE c.id = ANY($1) AND c.file_id IS NULL AND u.status = 'open' AND $2 = ANY(c.planned_node_ids)`,
      [chunkIds, nodeId],
    );
    return new Set(rows.map((r) => r.id));
  }

  /** Chunk ids after `cursor`, in id order, of committed live files: the rebalancer's walk. */
  async liveChunksAfter(cursor: string, limit: number): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT c.id FROM metadata.chunks c JOIN metadata.files f ON f.id = c.file_id AND f.deleted_at IS NULL
       WHERE c.id > $1 ORDER BY c.id LIMIT $2`,
      [cursor, limit],
    );
    return rows.map((r) => r.id);
  }

  async replicaCountOnNode(nodeId: string): Promise<number> {
    const rows = await this.dataSource.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM metadata.chunk_replicas WHERE node_id = $1`,
      [nodeId],
    );
    return Number(rows[0]?.n ?? 0);
  }
}
