import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity';

/**
 * One sign-in (a session the user sees in their list): a completed login and the refresh-token
 * family it started, whose id it shares. It ends when revoked or at `expiresAt`, the absolute
 * lifetime that no refresh extends (SESSION_MAX_AGE_SECONDS).
 */
@Entity({ name: 'sign_ins' })
export class SignInEntity {
  /** The refresh-token family id, also the `fid` claim of its access tokens. */
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Index('sign_ins_user_idx')
  @Column({ type: 'uuid' })
  userId!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;

  /** The user agent of the login, as the gateway saw it. */
  @Column({ type: 'text', default: '' })
  device!: string;

  @Column({ type: 'text', default: '' })
  clientAddress!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  /** The login, or the last refresh of its tokens. */
  @Column({ type: 'timestamptz', default: () => 'now()' })
  lastUsedAt!: Date;

  @Column({ type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
