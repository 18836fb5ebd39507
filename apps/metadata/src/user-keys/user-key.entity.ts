import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * A user's own key, which wraps the data keys of the user's files, stored only wrapped by the
 * master key (the gateway wraps and unwraps; this service never sees it plain). Erasing the user
 * deletes the row (crypto-shredding): no row keeps the user's id.
 */
@Entity({ name: 'user_keys' })
export class UserKeyEntity {
  @PrimaryColumn({ type: 'uuid' })
  userId!: string;

  /** The key wrapped by the master key. */
  @Column({ type: 'bytea', select: false })
  wrappedKey!: Buffer;

  /** Which master key wrapped it (a fingerprint, not the key). */
  @Column({ type: 'text' })
  masterKeyId!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
