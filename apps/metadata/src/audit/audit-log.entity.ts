import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { bigintToNumber } from '@cloudstore/database';

/** The audit trail of every service: who did what, from where, and how it ended. Append-only. */
@Entity({ name: 'audit_log' })
@Index('audit_log_user_time_idx', ['userId', 'occurredAt'])
@Index('audit_log_time_idx', ['occurredAt'])
@Check('audit_log_status_check', `"status" IN ('success', 'failure')`)
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

  @Column({ type: 'uuid', nullable: true })
  fileId!: string | null;

  @Column({ type: 'text', nullable: true })
  filename!: string | null;

  @Column({ type: 'bigint', nullable: true, transformer: bigintToNumber })
  sizeBytes!: number | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  details!: Record<string, string | number | boolean>;
}
