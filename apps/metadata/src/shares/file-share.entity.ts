import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { FileEntity } from '../files/file.entity';

/** What a grantee may do with a shared file: read it (list, get, download). Only the owner writes and deletes. */
export const SHARE_PERMISSIONS = ['read'] as const;
export type SharePermission = (typeof SHARE_PERMISSIONS)[number];

/**
 * A file its owner gave another user access to. The row goes with the file (a purge or an
 * erasure of the owner) and with the grantee (an erasure); while the file is in the trash the
 * share is kept but grants nothing, and it holds again if the file is restored.
 */
@Entity({ name: 'file_shares' })
@Check('file_shares_permission_check', `"permission" IN ('read')`)
@Index('file_shares_grantee_idx', ['granteeId', 'createdAt'])
export class FileShareEntity {
  /** The file's row id (not the id its owner knows it by). */
  @PrimaryColumn({ type: 'uuid' })
  fileId!: string;

  @PrimaryColumn({ type: 'uuid' })
  granteeId!: string;

  @ManyToOne(() => FileEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'file_id' })
  file?: FileEntity;

  /** As the grantee spells it, for the owner's listing of the file's shares (usernames never change). */
  @Column({ type: 'text' })
  granteeUsername!: string;

  /** As the owner spells it, for the grantee's listing of what is shared with them. */
  @Column({ type: 'text' })
  ownerUsername!: string;

  @Column({ type: 'text', default: 'read' })
  permission!: SharePermission;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
