import { Check, Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * A user's own key, which wraps the data keys of the user's files, stored only wrapped by the
 * master key (the gateway wraps and unwraps; this service never sees it plain). Destroying it
 * (crypto-shredding) leaves the row as a tombstone, so that no new key is made for the user.
 */
@Entity({ name: 'user_keys' })
@Check('user_keys_destroyed_check', `("wrapped_key" IS NULL) = ("destroyed_at" IS NOT NULL)`)
@Check('user_keys_master_key_check', `("wrapped_key" IS NULL) = ("master_key_id" IS NULL)`)
export class UserKeyEntity {
  @PrimaryColumn({ type: 'uuid' })
  userId!: string;

  /** The key wrapped by the master key; null once destroyed. */
  @Column({ type: 'bytea', nullable: true, select: false })
  wrappedKey!: Buffer | null;

  /** Which master key wrapped it (a fingerprint, not the key). */
  @Column({ type: 'text', nullable: true })
  masterKeyId!: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  destroyedAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
