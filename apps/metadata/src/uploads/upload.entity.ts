import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { bigintToNumber } from '@cloudstore/database';

export type UploadStatus = 'open' | 'committed' | 'aborted';

/** The index that lets one open upload per owner name a file id. */
export const OPEN_UPLOAD_FILE_ID_UNIQUE = 'uploads_open_owner_public_file_id_unique';

/**
 * An upload in progress. Its reservation holds quota while bytes arrive; commit turns it into a
 * file, abort (or idleness) releases it and leaves its chunks to garbage collection.
 */
@Entity({ name: 'uploads' })
@Index('uploads_open_idle_idx', ['updatedAt'], { where: "status = 'open'" })
// An owner's open uploads in order of age: the quota's wound-wait rule ranks them.
@Index('uploads_open_owner_idx', ['ownerId', 'createdAt'], { where: "status = 'open'" })
// While open, an upload holds its file id in its owner's namespace (committed, the file holds it).
@Index(OPEN_UPLOAD_FILE_ID_UNIQUE, ['ownerId', 'publicFileId'], { unique: true, where: "status = 'open'" })
@Check('uploads_status_check', `"status" IN ('open', 'committed', 'aborted')`)
@Check('uploads_reserved_check', `"reserved_bytes" >= 0`)
export class UploadEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'uuid' })
  ownerId!: string;

  /** The row id the file gets at commit. */
  @Column({ type: 'uuid' })
  fileId!: string;

  /** For a new version of a file the owner has: that file's row id (also `fileId`); null for a new file. */
  @Column({ type: 'uuid', nullable: true })
  versionOf!: string | null;

  /** The `file_id` the owner will know the file by (see FileEntity.publicId). */
  @Column({ type: 'uuid' })
  publicFileId!: string;

  @Column({ type: 'text' })
  filename!: string;

  @Column({ type: 'text', default: 'application/octet-stream' })
  contentType!: string;

  @Column({ type: 'text', default: 'open' })
  status!: UploadStatus;

  /** Bytes of the owner's quota this upload holds. */
  @Column({ type: 'bigint', default: 0, transformer: bigintToNumber })
  reservedBytes!: number;

  /** Bytes of the file in the chunks prepared so far (without their overhead). */
  @Column({ type: 'bigint', default: 0, transformer: bigintToNumber })
  receivedBytes!: number;

  /** Bytes each stored chunk carries beyond the file's own (the encryption's nonce and tag). */
  @Column({ type: 'integer', default: 0 })
  chunkOverhead!: number;

  /**
   * A resumable upload (CreateUpload of the public API): kept open when its client goes away,
   * until `expiresAt` (UPLOAD_EXPIRY_SECONDS); the idle sweep leaves it alone.
   */
  @Column({ type: 'boolean', default: false })
  resumable!: boolean;

  @Column({ type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  /** Of a resumable upload: its file's data key, wrapped by the owner's key (a resume needs it). */
  @Column({ type: 'bytea', nullable: true, select: false })
  wrappedDataKey!: Buffer | null;

  /** The SHA-256 the client announced for the whole file, checked at the commit; null for none. */
  @Column({ type: 'text', nullable: true })
  expectedSha256!: string | null;

  /** Bytes announced by the client, reserved at start; -1 when unknown. */
  @Column({ type: 'bigint', default: -1, transformer: bigintToNumber })
  declaredSize!: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  /** Last activity: an open upload idle for UPLOAD_IDLE_TIMEOUT_SECONDS is aborted. */
  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
