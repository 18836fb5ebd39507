import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintToNumber } from '@cloudstore/database';

/** The index that keeps one pending chunk per index of an upload. */
export const UPLOAD_INDEX_UNIQUE = 'chunks_upload_index_unique';

/**
 * One chunk of a file, recorded before any node stores it (so that nothing on a node is ever
 * unknown to the metadata): first with its upload, then with its file once the upload commits.
 * When the file is purged it loses both, and lives on only until its nodes have removed it.
 */
@Entity({ name: 'chunks' })
@Index('chunks_file_index_unique', ['fileId', 'index'], { unique: true, where: 'file_id IS NOT NULL' })
@Index('chunks_upload_idx', ['uploadId'])
// One pending chunk per index of an upload: two streams going on with one resumable upload cannot both add it.
@Index(UPLOAD_INDEX_UNIQUE, ['uploadId', 'index'], { unique: true, where: 'file_id IS NULL AND upload_id IS NOT NULL' })
// Chunks of purged files, waiting to be removed from their nodes.
@Index('chunks_orphan_idx', ['id'], { where: 'file_id IS NULL AND upload_id IS NULL' })
// Committed chunks by how many ok replicas they have: those below target, found by index.
@Index('chunks_under_replicated_idx', ['okReplicas', 'id'], { where: 'file_id IS NOT NULL' })
export class ChunkEntity {
  /** Also the chunk's file name on the nodes. */
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'uuid', nullable: true })
  uploadId!: string | null;

  @Column({ type: 'uuid', nullable: true })
  fileId!: string | null;

  @Column({ type: 'integer' })
  index!: number;

  @Column({ type: 'bigint', transformer: bigintToNumber })
  sizeBytes!: number;

  /** Lowercase hex SHA-256 of the bytes stored. */
  @Column({ type: 'text' })
  sha256!: string;

  /** Every node the chunk may have been sent to: what garbage collection must clean. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  plannedNodeIds!: string[];

  /**
   * Replicas in state ok, on any node. Kept by a trigger on chunk_replicas (never written by
   * the application), so chunks below their target are found by index, not by counting all.
   */
  @Column({ type: 'integer', default: 0 })
  okReplicas!: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
