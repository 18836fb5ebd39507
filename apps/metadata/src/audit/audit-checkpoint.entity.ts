import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Where the audit chain was cut by retention: the last pruned row's position and mac, signed, so
 * the rows left verify from it and a forged or edited checkpoint is detected. Append-only; the
 * one with the highest `chainSeq` is the chain's start.
 */
@Entity({ name: 'audit_checkpoints' })
@Index('audit_checkpoints_chain_seq_unique', ['chainSeq'], { unique: true })
export class AuditCheckpointEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  /** The last pruned row's chain_seq: the chain continues at the next one. */
  @Column({ type: 'bigint' })
  chainSeq!: string;

  /** The last pruned row's mac: the next row is chained to it. */
  @Column({ type: 'bytea' })
  mac!: Buffer;

  /** Rows that occurred before this were pruned. */
  @Column({ type: 'timestamptz' })
  prunedBefore!: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  /** HMAC of the fields above under the checkpoint key (AuditChain.signCheckpoint). */
  @Column({ type: 'bytea' })
  signature!: Buffer;
}
