import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity';

/** A single-use code that stands in for a TOTP code when the authenticator is lost. */
@Entity({ name: 'recovery_codes' })
export class RecoveryCodeEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('recovery_codes_user_idx')
  @Column({ type: 'uuid' })
  userId!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;

  /** Random, one per code (hex), so that equal codes never hash alike. */
  @Column({ type: 'text', select: false })
  salt!: string;

  /**
   * SHA-256(salt ‖ SHA-256(code)) in hex (the code has 80 random bits, so a fast hash is enough);
   * the code itself is shown once and never stored.
   */
  @Column({ type: 'text', select: false })
  codeHash!: string;

  @Column({ type: 'timestamptz', nullable: true })
  usedAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
