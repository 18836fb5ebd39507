import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * Ed25519 keys that sign access tokens. Generated on first start when none is configured, and
 * shared by every auth replica through this table; services verify with the public half.
 */
@Entity({ name: 'signing_keys' })
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'text' })
  keyId!: string;

  @Column({ type: 'text' })
  algorithm!: string;

  @Column({ type: 'text' })
  publicKeyPem!: string;

  @Column({ type: 'text', select: false })
  privateKeyPem!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  /** Still verifies tokens it signed, but signs no new ones. */
  @Column({ type: 'timestamptz', nullable: true })
  retiredAt!: Date | null;
}
