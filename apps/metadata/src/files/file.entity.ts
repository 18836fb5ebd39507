import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintToNumber } from '@cloudstore/database';

/** The index that keeps a file id unique among its owner's files only. */
export const OWNER_PUBLIC_ID_UNIQUE = 'files_owner_public_id_unique';

/**
 * A committed file, or an earlier version of one (`versionOf` set: its own row and chunks, the
 * file's id, and the content the file had before). Soft-deleted files (the trash) keep their row
 * and chunks, and their versions, until they are purged.
 */
@Entity({ name: 'files' })
@Index('files_owner_listing_idx', ['ownerId', 'uploadedAt', 'id'], { where: 'deleted_at IS NULL AND version_of IS NULL' })
@Index('files_owner_trash_idx', ['ownerId', 'deletedAt', 'id'], { where: 'deleted_at IS NOT NULL AND version_of IS NULL' })
@Index('files_purge_idx', ['deletedAt'], { where: 'deleted_at IS NOT NULL AND version_of IS NULL' })
// File ids are an owner's own namespace: another user's file never makes an id taken. Earlier
// versions share their file's id.
@Index(OWNER_PUBLIC_ID_UNIQUE, ['ownerId', 'publicId'], { unique: true, where: 'version_of IS NULL' })
@Index('files_versions_idx', ['versionOf', 'version'], { where: 'version_of IS NOT NULL' })
// A pg_trgm GIN index on lower(filename), created by migration: TypeORM cannot describe it.
@Index('files_filename_trgm_idx', { synchronize: false })
export class FileEntity {
  /** The row's own id, which chunks point at; never shown to users. */
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  /** The `file_id` its owner knows it by: chosen at upload, or the row's id. Unique per owner only. */
  @Column({ type: 'uuid' })
  publicId!: string;

  @Column({ type: 'uuid' })
  ownerId!: string;

  /** Sanitised: no separators, no `..`, no control characters, NFC, at most 255 bytes. */
  @Column({ type: 'text' })
  filename!: string;

  @Column({ type: 'bigint', transformer: bigintToNumber })
  sizeBytes!: number;

  /** Lowercase hex SHA-256 of the whole file. */
  @Column({ type: 'text' })
  sha256!: string;

  @Column({ type: 'text', default: 'application/octet-stream' })
  contentType!: string;

  @Column({ type: 'integer' })
  chunkCount!: number;

  @Column({ type: 'bigint', transformer: bigintToNumber })
  chunkSize!: number;

  /** Bytes each stored chunk carries beyond the file's own: the encryption's nonce and tag. */
  @Column({ type: 'integer', default: 0 })
  chunkOverhead!: number;

  /**
   * The file's data key, wrapped as `wrappedByUserKey` says; null for files stored in the clear,
   * and for those whose key was destroyed with their owner's (chunkOverhead tells them apart).
   */
  @Column({ type: 'bytea', nullable: true })
  wrappedDataKey!: Buffer | null;

  /** Of a data key wrapped by the master key: which one (a fingerprint, not the key); null otherwise. */
  @Column({ type: 'text', nullable: true })
  masterKeyId!: string | null;

  /**
   * Whether the owner's key wraps the data key; false: the master key does directly (files stored
   * before user keys, and by replicas of that version during a rolling upgrade, which leave the default).
   */
  @Column({ type: 'boolean', default: false })
  wrappedByUserKey!: boolean;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  uploadedAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;

  /** Of an earlier version: the row id of the file it is a version of; null for a file itself. */
  @Column({ type: 'uuid', nullable: true })
  versionOf!: string | null;

  /** 1 for a file's first content, one more for each new one (restoring a version too). */
  @Column({ type: 'integer', default: 1 })
  version!: number;
}
