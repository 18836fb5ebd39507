import type { authApi } from '@cloudstore/contracts';
import { toUnixSeconds } from '@cloudstore/database';
import type { UserEntity } from './user.entity';

/** An account as auth's API answers it. */
export function userResponse(user: UserEntity): authApi.User {
  return {
    userId: user.id,
    username: user.username,
    email: user.email,
    role: user.role,
    active: user.active,
    totpEnabled: user.totpEnabledAt !== null,
    createdAt: toUnixSeconds(user.createdAt),
    updatedAt: toUnixSeconds(user.updatedAt),
  };
}
