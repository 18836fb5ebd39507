import { Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import { type authApi, type commonApi, InvalidArgumentError } from '@cloudstore/contracts';
import { InternalClients } from '../internal-clients/internal-clients';

export interface UserView {
  user_id: string;
  username: string;
  email: string;
  role: string;
  active: boolean;
  totp_enabled: boolean;
  created_at: number;
  /** Effective quota (0 when unlimited) and bytes used; in answers to an update. */
  quota_bytes?: number;
  used_bytes?: number;
}

export function userView(user: authApi.User): UserView {
  return {
    user_id: user.userId,
    username: user.username,
    email: user.email,
    role: user.role,
    active: user.active,
    totp_enabled: user.totpEnabled,
    created_at: user.createdAt,
  };
}

/** The admin's operations on accounts; auth checks the caller's role again from its database. */
@Injectable()
export class AdminUsersService {
  constructor(private readonly clients: InternalClients) {}

  async list(caller: Caller, limit: number, offset: number, filter: string): Promise<{ users: UserView[]; total_count: number }> {
    const result = await this.clients.userAdmin.call('listUsers', { caller, limit, offset, filter });
    return { users: result.users.map(userView), total_count: result.totalCount };
  }

  /**
   * Role and active flag live in auth; the quota in metadata, which also learns a new role at once
   * (the role picks the default quota). The whole patch is checked first, for both doors alike,
   * so a bad quota changes no role either.
   */
  async update(
    caller: Caller,
    userId: string,
    patch: { role?: string; active?: boolean; quotaBytes?: number },
    origin: commonApi.RequestOrigin,
  ): Promise<UserView> {
    const { role, active, quotaBytes } = patch;
    if (quotaBytes !== undefined && (!Number.isSafeInteger(quotaBytes) || quotaBytes < -1)) {
      throw new InvalidArgumentError('quota_bytes must be a byte count, or -1 for the default of the role');
    }
    const account = { ...(role !== undefined ? { role } : {}), ...(active !== undefined ? { active } : {}) };
    const user = await this.clients.userAdmin.call('updateUser', { caller, userId, ...account, origin });
    const quota = await this.clients.quotas.call('setQuota', {
      userId: user.userId,
      role: user.role,
      ...(quotaBytes !== undefined ? { quotaBytes } : {}),
    });
    return { ...userView(user), quota_bytes: quota.totalQuotaBytes, used_bytes: quota.usedBytes };
  }
}
