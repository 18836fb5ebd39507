import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { FileEntity } from '../files/file.entity';

/**
 * A link that downloads one file without a token until it expires or its owner revokes it
 * (the row is deleted). Only the SHA-256 of the link's secret is kept: the URL is shown once, at
 * creation, and a copy of this table opens nothing. The row goes with the file.
 */
@Entity({ name: 'download_links' })
@Index('download_links_file_idx', ['fileId', 'createdAt'])
@Index('download_links_expiry_idx', ['expiresAt'])
export class DownloadLinkEntity {
  /** The id the owner lists and revokes it by; not the secret. */
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  /** The file's row id. */
  @Column({ type: 'uuid' })
  fileId!: string;

  @ManyToOne(() => FileEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'file_id' })
  file?: FileEntity;

  /** SHA-256 of the secret in the URL. */
  @Index('download_links_token_unique', { unique: true })
  @Column({ type: 'bytea', select: false })
  tokenSha256!: Buffer;

  /** Argon2id of the link's password (the gateway hashes and checks it); null without one. */
  @Column({ type: 'text', nullable: true, select: false })
  passwordHash!: string | null;

  @Column({ type: 'timestamptz' })
  expiresAt!: Date;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
