import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { authApi } from '@cloudstore/contracts';
import { toUnixSeconds } from '@cloudstore/database';
import { AllowedCallers, ForUser, verifiedUser } from '@cloudstore/grpc';
import { AccountErasureService } from '../account-erasure/account-erasure.service';
import { originOf } from '../auth.controller';
import { SigningKeysService } from '../tokens/signing-keys.service';
import { userResponse } from './user-response';
import { UsersService } from './users.service';

/**
 * The admin's view of accounts, for the gateway only: the admin is the user of the access token
 * the call carries (its role checked by the guard, then again here from the database).
 */
@Controller()
@authApi.UserAdminServiceControllerMethods()
export class UserAdminController implements authApi.UserAdminServiceController {
  constructor(
    private readonly users: UsersService,
    private readonly signingKeys: SigningKeysService,
    private readonly erasure: AccountErasureService,
  ) {}

  @AllowedCallers('gateway')
  @ForUser({ role: 'admin' })
  async listUsers(request: authApi.ListUsersRequest, metadata?: Metadata): Promise<authApi.ListUsersResponse> {
    const [users, total] = await this.users.list(verifiedUser(metadata).userId, request.limit, request.offset, request.filter);
    return { users: users.map(userResponse), totalCount: total };
  }

  @AllowedCallers('gateway')
  @ForUser({ role: 'admin' })
  async getUser(request: authApi.GetUserRequest, metadata?: Metadata): Promise<authApi.User> {
    return userResponse(await this.users.get(verifiedUser(metadata).userId, request.userId));
  }

  @AllowedCallers('gateway')
  @ForUser({ role: 'admin' })
  async updateUser(request: authApi.UpdateUserRequest, metadata?: Metadata): Promise<authApi.User> {
    const patch = {
      ...(request.role !== undefined ? { role: request.role } : {}),
      ...(request.active !== undefined ? { active: request.active } : {}),
    };
    return userResponse(await this.users.update(verifiedUser(metadata).userId, request.userId, patch, originOf(request.origin)));
  }

  @AllowedCallers('gateway')
  @ForUser({ role: 'admin' })
  async deleteUser(request: authApi.DeleteUserRequest, metadata?: Metadata): Promise<authApi.DeleteAccountResponse> {
    await this.erasure.deleteByAdmin(verifiedUser(metadata).userId, request.userId);
    return {};
  }

  @AllowedCallers('gateway')
  @ForUser({ role: 'admin' })
  async rotateSigningKey(
    request: authApi.RotateSigningKeyRequest,
    metadata?: Metadata,
  ): Promise<authApi.RotateSigningKeyResponse> {
    const admin = await this.users.requireAdmin(verifiedUser(metadata).userId);
    const rotation = await this.signingKeys.rotate({ admin, origin: originOf(request.origin) });
    return {
      keyId: rotation.keyId,
      createdAt: toUnixSeconds(rotation.createdAt),
      retiring: rotation.retiring.map((k) => ({ keyId: k.keyId, verifyUntil: toUnixSeconds(k.verifyUntil) })),
    };
  }
}
