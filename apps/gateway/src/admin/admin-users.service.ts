import { Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import type { authApi } from '@cloudstore/contracts';
import { InternalClients } from '../internal-clients/internal-clients';

export interface UserView {
  user_id: string;
  username: string;
  email: string;
  role: string;
  active: boolean;
  totp_enabled: boolean;
  created_at: number;
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

  async update(
    caller: Caller,
    userId: string,
    patch: { role?: string; active?: boolean },
    origin: authApi.RequestOrigin,
  ): Promise<UserView> {
    return userView(await this.clients.userAdmin.call('updateUser', { caller, userId, ...patch, origin }));
  }
}
