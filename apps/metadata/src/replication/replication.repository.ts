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
 * Per chunk of a committed file (only of live ones with `liveOnly`): `healthy` replicas (state
 * ok, on a live node that is active), and the replicas that should go once the chunk is at its
 * target (broken ones on live nodes, any on nodes being drained). Chunks of deleted files keep
 * their replicas until they are purged, so they are repaired and drained too.
 * `$1` is NODE_DOWN_AFTER_SECONDS, `$2` REPLICATION_FACTOR.
 */
const replicaCounts = (liveOnly: boolean) => `
  WITH live AS (
         SELECT node_id FROM metadata.storage_nodes
         WHERE last_heartbeat_at > now() - make_interval(secs => $1) AND state = 'active'),
       target AS (SELECT LEAST($2::int, count(*))::int AS n FROM live),
       counts AS (
         SELECT c.id,
                count(r.node_id) FILTER (WHERE r.state = 'ok' AND live.node_id IS NOT NULL) AS healthy,
                count(r.node_id) FILTER (WHERE r.state <> 'ok' AND n.last_heartbeat_at > now() - make_interval(secs => $1)) AS broken,
                count(r.node_id) FILTER (WHERE n.state <> 'active') AS retiring
         FROM metadata.chunks c
         JOIN metadata.files f ON f.id = c.file_id${liveOnly ? ' AND f.deleted_at IS NULL' : ''}
         LEFT JOIN metadata.chunk_replicas r ON r.chunk_id = c.id
         LEFT JOIN metadata.storage_nodes n ON n.node_id = r.node_id
         LEFT JOIN live ON live.node_id = r.node_id
         GROUP BY c.id)`;

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

  /** Chunks of live files with fewer healthy replicas than the target. */
  async countUnderReplicated(): Promise<number> {
    const rows = await this.dataSource.query<{ n: string }[]>(
      `${replicaCounts(true)} SELECT count(*) AS n FROM counts, target WHERE counts.healthy < target.n`,
      this.params,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Chunks that need a copy, or have a replica to remove once they are at their target. */
  async findChunksNeedingWork(limit: number): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `${replicaCounts(false)}
       SELECT counts.id FROM counts, target
       WHERE target.n > 0 AND (counts.healthy <> target.n OR (counts.broken > 0 OR counts.retiring > 0))
       ORDER BY counts.healthy, counts.id LIMIT $3`,
      [...this.params, limit],
    );
    return rows.map((r) => r.id);
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
