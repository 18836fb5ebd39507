import { createServiceDataSource } from '@cloudstore/database';
import type { DataSource } from 'typeorm';
import { PasswordResetEntity } from '../passwords/password-reset.entity';
import { SignInEntity } from '../sessions/sign-in.entity';
import { RecoveryCodeEntity } from '../totp/recovery-code.entity';
import { RefreshTokenEntity } from '../tokens/refresh-token.entity';
import { SigningKeyEntity } from '../tokens/signing-key.entity';
import { UserEntity } from '../users/user.entity';
import { AUTH_MIGRATIONS } from './migrations';

/** The PostgreSQL schema that only the auth service reads and writes. */
export const AUTH_SCHEMA = 'auth';

export const AUTH_ENTITIES = [
  UserEntity,
  RefreshTokenEntity,
  SigningKeyEntity,
  RecoveryCodeEntity,
  SignInEntity,
  PasswordResetEntity,
];

export function createAuthDataSource(url: string): DataSource {
  return createServiceDataSource({
    url,
    schema: AUTH_SCHEMA,
    entities: AUTH_ENTITIES,
    migrations: AUTH_MIGRATIONS,
    applicationName: 'cloudstore-auth',
  });
}
