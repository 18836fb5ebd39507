import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { bigintToNumber } from '@cloudstore/database';

/**
 * The audit trail of every service: who did what, from where, and how it ended. Append-only:
 * rows are inserted unsealed, then the sealer chains them (`chainSeq`, `mac`; see AuditChain).
 */
@Entity({ name: 'audit_log' })
@Index('audit_log_user_time_idx', ['userId', 'occurredAt'])
@Index('audit_log_time_idx', ['occurredAt'])
@Index('audit_log_subject_idx', ['subjectUserId'], { where: '"subject_user_id" IS NOT NULL' })
// Rows that name someone only by name (a refused registration), found by an erasure of that name.
@Index('audit_log_nameless_username_idx', { synchronize: false })
@Index('audit_log_chain_seq_unique', ['chainSeq'], { unique: true })
@Index('audit_log_unsealed_idx', ['id'], { where: '"chain_seq" IS NULL' })
@Check('audit_log_status_check', `"status" IN ('success', 'failure')`)
@Check(
  'audit_log_sealed_check',
  `("chain_seq" IS NULL AND "mac" IS NULL AND "personal_digest" IS NULL) OR ("chain_seq" IS NOT NULL AND "mac" IS NOT NULL AND "personal_digest" IS NOT NULL)`,
)
export class AuditLogEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  /** Set by the producer; a redelivered event is written once. */
  @Column({ type: 'uuid', unique: true })
  eventId!: string;

  @Column({ type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ type: 'text' })
  operation!: string;

  @Column({ type: 'text' })
  status!: 'success' | 'failure';

  @Column({ type: 'text', nullable: true })
  errorCode!: string | null;

  @Column({ type: 'uuid', nullable: true })
  userId!: string | null;

  @Column({ type: 'text', nullable: true })
  username!: string | null;

  @Column({ type: 'text', nullable: true })
  clientAddress!: string | null;

  @Column({ type: 'text', nullable: true })
  userAgent!: string | null;

  /** The account an admin's act was about (a quota or role change, an erasure); cleared when that account is erased. */
  @Column({ type: 'uuid', nullable: true })
  subjectUserId!: string | null;

  @Column({ type: 'uuid', nullable: true })
  fileId!: string | null;

  @Column({ type: 'text', nullable: true })
  filename!: string | null;

  @Column({ type: 'bigint', nullable: true, transformer: bigintToNumber })
  sizeBytes!: number | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  details!: Record<string, string | number | boolean>;

  /** When the row was inserted (the producer's clock is `occurredAt`): how long it has waited to be sealed. */
  @Column({ type: 'timestamptz', default: () => 'now()' })
  recordedAt?: Date;

  /** Position in the chain, gap-free from 1 (or from the latest checkpoint); null until sealed. */
  @Column({ type: 'bigint', nullable: true })
  chainSeq?: string | null;

  /** HMAC of the previous row's mac and this row (AuditChain.link); null until sealed. */
  @Column({ type: 'bytea', nullable: true })
  mac?: Buffer | null;

  /** Keyed digest of the personal fields as sealed, so they can be pseudonymised later and the mac still verify. */
  @Column({ type: 'bytea', nullable: true })
  personalDigest?: Buffer | null;

  /** Keyed digest of the subject as sealed (null without one), linked like personalDigest. */
  @Column({ type: 'bytea', nullable: true })
  subjectDigest?: Buffer | null;

  /**
   * Set by a GDPR erasure: the pseudonym that replaced the erased actor's user id (the actor's
   * other personal fields are cleared); also set where only the subject was erased (cleared).
   */
  @Column({ type: 'uuid', nullable: true })
  erasedAs?: string | null;
}
