import { Check, Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * The audit chain's keys (see AuditChain), stored only wrapped by the master key, so that a
 * master-key rotation re-wraps them and every sealed row keeps verifying. One row: its key is
 * always true.
 */
@Entity({ name: 'audit_chain_keys' })
@Check('audit_chain_keys_one_row_check', `"one_row"`)
export class AuditChainKeysEntity {
  @PrimaryColumn({ type: 'boolean', default: true })
  oneRow!: boolean;

  @Column({ type: 'bytea', select: false })
  wrappedKeys!: Buffer;

  /** Which master key wrapped them (a fingerprint, not the key). */
  @Column({ type: 'text' })
  masterKeyId!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
