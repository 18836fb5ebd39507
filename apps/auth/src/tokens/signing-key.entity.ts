import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * Ed25519 keys that sign access tokens. Generated on first start when none is configured, and
 * shared by every auth replica through this table; services verify with the public half. The
 * newest key without `verifyUntil` signs; a rotation gives the keys before it a `verifyUntil`
 * (when the last token they signed has expired), after which they are retired.
 */
@Entity({ name: 'signing_keys' })
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'text' })
  keyId!: string;

  @Column({ type: 'text' })
  algorithm!: string;

  @Column({ type: 'text' })
  publicKeyPem!: string;

  /**
   * The PKCS#8 PEM sealed under the master key (SecretBox `v1.…`, bound to the key id); rows from
   * before sealing are sealed at start. Erased when the key is retired.
   */
  @Column({ type: 'text', nullable: true, select: false })
  privateKeyPem!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  /** Set by a rotation: signs no new tokens, and verifies those it signed until then. */
  @Column({ type: 'timestamptz', nullable: true })
  verifyUntil!: Date | null;

  /** Past `verifyUntil`: verifies nothing any more, and its private half is erased. */
  @Column({ type: 'timestamptz', nullable: true })
  retiredAt!: Date | null;
}
