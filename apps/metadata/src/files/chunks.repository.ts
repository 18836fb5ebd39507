import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { affectedRows } from '@cloudstore/database';
import { InvalidArgumentError } from '@cloudstore/contracts';
import { ChunkEntity, UPLOAD_INDEX_UNIQUE } from './chunk.entity';
import { ChunkReplicaEntity, type ReplicaState } from './chunk-replica.entity';

export interface ReplicaLocation {
  readonly nodeId: string;
  readonly address: string;
  readonly state: ReplicaState;
  /** The node sent a heartbeat within the liveness window. */
  readonly alive: boolean;
}

export interface ChunkWithReplicas {
  readonly id: string;
  readonly index: number;
  readonly sizeBytes: number;
  readonly sha256: string;
  readonly replicas: ReplicaLocation[];
}

/** SQL of chunks and their replicas. */
@Injectable()
export class ChunksRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insertPending(
    manager: EntityManager,
    chunk: Pick<ChunkEntity, 'id' | 'uploadId' | 'index' | 'sizeBytes' | 'sha256' | 'plannedNodeIds'>,
  ): Promise<void> {
    try {
      await manager.insert(ChunkEntity, { ...chunk, fileId: null });
    } catch (error) {
      if ((error as { constraint?: string }).constraint === UPLOAD_INDEX_UNIQUE)
        throw new InvalidArgumentError('Another stream is sending this upload: go on from the offset GetUploadStatus gives');
      throw error;
    }
  }

  /**
   * Records the nodes that stored chunks of an open upload, in one statement, each among the nodes
   * planned for its chunk (a pair given twice counts once): whether every one was, which it is
   * not when a chunk is not the upload's or a node was not planned for it (the caller then rolls back).
   */
  async recordStored(
    manager: EntityManager,
    uploadId: string,
    stored: readonly { chunkId: string; nodeIds: readonly string[] }[],
  ): Promise<boolean> {
    const distinct = new Map(
      stored.flatMap((s) => s.nodeIds.map((nodeId) => [`${s.chunkId}/${nodeId}`, [s.chunkId, nodeId]] as const)),
    );
    const pairs = [...distinct.values()];
    if (pairs.length === 0) return true;
    const rows = await manager.query<unknown[]>(
      `INSERT INTO "metadata"."chunk_replicas" ("chunk_id", "node_id", "state")
       SELECT s."chunk_id", s."node_id", 'ok'
       FROM unnest($2::text[], $3::text[]) AS s("chunk_id", "node_id")
       JOIN "metadata"."chunks" c ON c."id" = s."chunk_id" AND c."upload_id" = $1 AND c."file_id" IS NULL
       WHERE s."node_id" = ANY (c."planned_node_ids")
       ON CONFLICT ("chunk_id", "node_id") DO UPDATE SET "state" = 'ok', "verified_at" = now()
       RETURNING 1`,
      [uploadId, pairs.map(([chunkId]) => chunkId), pairs.map(([, nodeId]) => nodeId)],
    );
    return rows.length === pairs.length;
  }

  /** Index, size and number of good replicas of every chunk of an upload, in order. */
  summaryOfUpload(manager: EntityManager, uploadId: string): Promise<{ index: number; size_bytes: string; replicas: string }[]> {
    return manager.query(
      `SELECT c."index", c."size_bytes", count(r."node_id") FILTER (WHERE r."state" = 'ok') AS "replicas"
       FROM "metadata"."chunks" c LEFT JOIN "metadata"."chunk_replicas" r ON r."chunk_id" = c."id"
       WHERE c."upload_id" = $1 AND c."file_id" IS NULL
       GROUP BY c."id" ORDER BY c."index"`,
      [uploadId],
    );
  }

  async attachToFile(manager: EntityManager, uploadId: string, fileId: string): Promise<void> {
    await manager.update(ChunkEntity, { uploadId }, { fileId });
  }

  /** Distinct nodes that hold a replica of any chunk of the file. */
  async nodesOfFile(fileId: string, manager: EntityManager = this.dataSource.manager): Promise<string[]> {
    const rows = await manager.query<{ node_id: string }[]>(
      `SELECT DISTINCT r."node_id" FROM "metadata"."chunk_replicas" r JOIN "metadata"."chunks" c ON c."id" = r."chunk_id"
       WHERE c."file_id" = $1 AND r."state" = 'ok' ORDER BY r."node_id"`,
      [fileId],
    );
    return rows.map((r) => r.node_id);
  }

  /**
   * The chunks of a file that overlap bytes [start, end], each with its replicas, best first:
   * good replicas on live nodes, then the rest (a node may answer although it missed a heartbeat).
   */
  inRange(fileId: string, chunkSize: number, start: number, end: number, downAfterSeconds: number): Promise<ChunkWithReplicas[]> {
    return this.withReplicas(
      `c."file_id" = $2 AND c."index" BETWEEN $3 AND $4`,
      [fileId, Math.floor(start / chunkSize), Math.floor(end / chunkSize)],
      downAfterSeconds,
    );
  }

  /**
   * The chunks of an open upload from the first, in a row, that a node has stored (a replica
   * recorded ok): where a resumed upload goes on. Its later chunks are not counted.
   */
  async storedPrefixOfUpload(
    uploadId: string,
    downAfterSeconds: number,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<ChunkWithReplicas[]> {
    const chunks = await this.withReplicas(`c."upload_id" = $2 AND c."file_id" IS NULL`, [uploadId], downAfterSeconds, manager);
    const prefix: ChunkWithReplicas[] = [];
    for (const chunk of chunks) {
      // A chunk only on nodes that are down cannot be read back (upload chunks are not repaired): sent again.
      if (chunk.index !== prefix.length || !chunk.replicas.some((r) => r.state === 'ok' && r.alive)) break;
      prefix.push(chunk);
    }
    return prefix;
  }

  /** Cuts an open upload's chunks loose but those kept (its stored prefix): a resume sends them again; how many. */
  async cutLooseBut(manager: EntityManager, uploadId: string, keptIds: string[]): Promise<number> {
    return affectedRows(
      await manager.query(
        `UPDATE "metadata"."chunks" SET "upload_id" = NULL WHERE "upload_id" = $1 AND "file_id" IS NULL AND "id" <> ALL($2::text[])`,
        [uploadId, keptIds],
      ),
    );
  }

  /** Chunks matching `where` (its parameters from $2 on), each with its replicas, best first, by index. */
  private async withReplicas(
    where: string,
    params: unknown[],
    downAfterSeconds: number,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<ChunkWithReplicas[]> {
    const rows = await manager.query<
      {
        id: string;
        index: number;
        size_bytes: string;
        sha256: string;
        node_id: string | null;
        address: string | null;
        state: ReplicaState | null;
        alive: boolean | null;
      }[]
    >(
      `SELECT c."id", c."index", c."size_bytes", c."sha256", r."node_id", n."address", r."state",
              n."last_heartbeat_at" > now() - make_interval(secs => $1) AS "alive"
       FROM "metadata"."chunks" c
       LEFT JOIN "metadata"."chunk_replicas" r ON r."chunk_id" = c."id"
       LEFT JOIN "metadata"."storage_nodes" n ON n."node_id" = r."node_id"
       WHERE ${where}
       ORDER BY c."index"`,
      [downAfterSeconds, ...params],
    );
    const chunks = new Map<string, ChunkWithReplicas>();
    for (const row of rows) {
      let chunk = chunks.get(row.id);
      if (!chunk) {
        chunk = { id: row.id, index: row.index, sizeBytes: Number(row.size_bytes), sha256: row.sha256, replicas: [] };
        chunks.set(row.id, chunk);
      }
      if (row.node_id && row.address && row.state)
        chunk.replicas.push({ nodeId: row.node_id, address: row.address, state: row.state, alive: row.alive === true });
    }
    const rank = (r: ReplicaLocation) => (r.state === 'ok' ? 0 : 2) + (r.alive ? 0 : 1);
    return [...chunks.values()].map((c) => {
      const sorted = [...c.replicas].sort((a, b) => rank(a) - rank(b) || a.nodeId.localeCompare(b.nodeId));
      // Consecutive chunks start on different healthy replicas, so a download reads from every node.
      const healthy = sorted.filter((r) => rank(r) === 0).length;
      const shift = healthy > 0 ? c.index % healthy : 0;
      return { ...c, replicas: [...sorted.slice(shift, healthy), ...sorted.slice(0, shift), ...sorted.slice(healthy)] };
    });
  }

  /** Chunks of an upload that never became part of a file: what garbage collection removes. */
  uncommittedOfUpload(uploadId: string): Promise<ChunkEntity[]> {
    return this.dataSource.manager.query(
      `SELECT "id", "planned_node_ids" AS "plannedNodeIds" FROM "metadata"."chunks" WHERE "upload_id" = $1 AND "file_id" IS NULL`,
      [uploadId],
    );
  }

  /** Cuts the chunks of an upload that made no file loose, for collection from their nodes. */
  async detachFromUpload(manager: EntityManager, uploadId: string): Promise<void> {
    await manager.query(`UPDATE "metadata"."chunks" SET "upload_id" = NULL WHERE "upload_id" = $1 AND "file_id" IS NULL`, [
      uploadId,
    ]);
  }

  /**
   * Cuts the chunks of purged files (or dropped versions) loose, by their rows' ids: they belong
   * to nothing now, and wait to be removed from their nodes.
   */
  async detachFromFiles(manager: EntityManager, fileRowIds: string[]): Promise<void> {
    await manager.query(`UPDATE "metadata"."chunks" SET "file_id" = NULL, "upload_id" = NULL WHERE "file_id" = ANY($1::uuid[])`, [
      fileRowIds,
    ]);
  }

  /** Ids of chunks of purged files after `cursor`, in id order. */
  async orphanIds(cursor: string, limit: number): Promise<string[]> {
    const rows = await this.dataSource.manager.query<{ id: string }[]>(
      `SELECT "id" FROM "metadata"."chunks" WHERE "file_id" IS NULL AND "upload_id" IS NULL AND "id" > $1 ORDER BY "id" LIMIT $2`,
      [cursor, limit],
    );
    return rows.map((r) => r.id);
  }

  /** Every node that may hold a chunk of a purged file (planned for it, or holding a replica); undefined when it is none. */
  async nodesOfOrphan(chunkId: string): Promise<string[] | undefined> {
    const rows = await this.dataSource.manager.query<{ planned_node_ids: string[]; replica_node_ids: string[] }[]>(
      `SELECT c."planned_node_ids", array_remove(array_agg(r."node_id"), NULL) AS "replica_node_ids"
       FROM "metadata"."chunks" c LEFT JOIN "metadata"."chunk_replicas" r ON r."chunk_id" = c."id"
       WHERE c."id" = $1 AND c."file_id" IS NULL AND c."upload_id" IS NULL
       GROUP BY c."id"`,
      [chunkId],
    );
    const row = rows[0];
    return row ? [...new Set([...row.planned_node_ids, ...row.replica_node_ids])] : undefined;
  }

  /** Forgets the nodes confirmed clean; the chunk row goes once no node may hold it. */
  async forgetNodes(chunkId: string, remainingNodeIds: readonly string[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      if (remainingNodeIds.length === 0) {
        await manager.delete(ChunkReplicaEntity, { chunkId });
        await manager.delete(ChunkEntity, { id: chunkId });
      } else {
        await manager.query(`DELETE FROM "metadata"."chunk_replicas" WHERE "chunk_id" = $1 AND NOT ("node_id" = ANY($2))`, [
          chunkId,
          [...remainingNodeIds],
        ]);
        await manager.update(ChunkEntity, { id: chunkId }, { plannedNodeIds: [...remainingNodeIds] });
      }
    });
  }

  async markReplica(chunkId: string, nodeId: string, state: ReplicaState): Promise<boolean> {
    const result = await this.dataSource.manager.update(ChunkReplicaEntity, { chunkId, nodeId }, { state });
    return (result.affected ?? 0) > 0;
  }
}
