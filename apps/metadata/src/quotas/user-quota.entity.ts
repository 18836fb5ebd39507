import { Check, Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { bigintToNumber } from '@cloudstore/database';

/**
 * A user's storage account. `used_bytes` counts committed files, `reserved_bytes` uploads in
 * flight; both move only through conditional UPDATEs, so concurrent uploads never pass the limit.
 */
@Entity({ name: 'user_quotas' })
@Check('user_quotas_used_check', `"used_bytes" >= 0`)
@Check('user_quotas_reserved_check', `"reserved_bytes" >= 0`)
@Check('user_quotas_file_count_check', `"file_count" >= 0`)
export class UserQuotaEntity {
  @PrimaryColumn({ type: 'uuid' })
  userId!: string;

  /** The role whose default applies when no custom quota is set. */
  @Column({ type: 'text', default: 'basic' })
  role!: string;

  /** A custom quota set by an admin; null means the role's default. */
  @Column({ type: 'bigint', nullable: true, transformer: bigintToNumber })
  quotaBytes!: number | null;

  @Column({ type: 'bigint', default: 0, transformer: bigintToNumber })
  usedBytes!: number;

  @Column({ type: 'bigint', default: 0, transformer: bigintToNumber })
  reservedBytes!: number;

  /** Live (not deleted) files: listing answers total_count from here instead of counting rows. */
  @Column({ type: 'bigint', default: 0, transformer: bigintToNumber })
  fileCount!: number;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
