import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';

export const ROLES = ['basic', 'premium', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Named so that a violation tells which value was taken. */
export const USERNAME_UNIQUE_CONSTRAINT = 'users_username_key_unique';
export const EMAIL_UNIQUE_CONSTRAINT = 'users_email_key_unique';

@Entity({ name: 'users' })
@Check('users_role_check', `"role" IN ('basic', 'premium', 'admin')`)
@Unique(USERNAME_UNIQUE_CONSTRAINT, ['usernameKey'])
@Unique(EMAIL_UNIQUE_CONSTRAINT, ['emailKey'])
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** As the user typed it. */
  @Column({ type: 'text' })
  username!: string;

  /** Lower-cased username: uniqueness is case-insensitive, settled by this constraint. */
  @Column({ type: 'text' })
  usernameKey!: string;

  /** Normalised (NFC, lower-case domain). */
  @Column({ type: 'text' })
  email!: string;

  /** Lower-cased email: uniqueness is case-insensitive, settled by this constraint. */
  @Column({ type: 'text' })
  emailKey!: string;

  /** Argon2id PHC string. Never selected unless asked for. */
  @Column({ type: 'text', select: false })
  passwordHash!: string;

  @Column({ type: 'text', default: 'basic' })
  role!: Role;

  @Column({ type: 'boolean', default: true })
  active!: boolean;

  /**
   * The base32 TOTP secret sealed under the master key (SecretBox `v1.…`, bound to the user id),
   * set at enrolment; counts only once totpEnabledAt is set. Rows from before sealing are sealed at start.
   */
  @Column({ type: 'text', nullable: true, select: false })
  totpSecret!: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  totpEnabledAt!: Date | null;

  /** The last TOTP time step accepted: a code is good once. */
  @Column({ type: 'bigint', nullable: true, select: false })
  totpLastStep!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
