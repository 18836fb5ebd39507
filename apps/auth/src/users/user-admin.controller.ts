import { Controller } from '@nestjs/common';
import { authApi } from '@cloudstore/contracts';
import { toUnixSeconds } from '@cloudstore/database';
import { callerOf, originOf } from '../auth.controller';
import { SigningKeysService } from '../tokens/signing-keys.service';
import type { UserEntity } from './user.entity';
import { UsersService } from './users.service';

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

/** The admin's view of accounts; the caller's admin role is checked again here, from the database. */
@Controller()
@authApi.UserAdminServiceControllerMethods()
export class UserAdminController implements authApi.UserAdminServiceController {
  constructor(
    private readonly users: UsersService,
    private readonly signingKeys: SigningKeysService,
  ) {}

  async listUsers(request: authApi.ListUsersRequest): Promise<authApi.ListUsersResponse> {
    const [users, total] = await this.users.list(callerOf(request.caller).userId, request.limit, request.offset, request.filter);
    return { users: users.map(userResponse), totalCount: total };
  }

  async getUser(request: authApi.GetUserRequest): Promise<authApi.User> {
    return userResponse(await this.users.get(callerOf(request.caller).userId, request.userId));
  }

  async updateUser(request: authApi.UpdateUserRequest): Promise<authApi.User> {
    const patch = {
      ...(request.role !== undefined ? { role: request.role } : {}),
      ...(request.active !== undefined ? { active: request.active } : {}),
    };
    return userResponse(
      await this.users.update(callerOf(request.caller).userId, request.userId, patch, originOf(request.origin)),
    );
  }

  async rotateSigningKey(request: authApi.RotateSigningKeyRequest): Promise<authApi.RotateSigningKeyResponse> {
    const admin = await this.users.requireAdmin(callerOf(request.caller).userId);
    const rotation = await this.signingKeys.rotate({ admin, origin: originOf(request.origin) });
    return {
      keyId: rotation.keyId,
      createdAt: toUnixSeconds(rotation.createdAt),
      retiring: rotation.retiring.map((k) => ({ keyId: k.keyId, verifyUntil: toUnixSeconds(k.verifyUntil) })),
    };
  }
}
