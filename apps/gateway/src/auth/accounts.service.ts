import { Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import type { authApi, commonApi } from '@cloudstore/contracts';
import { InternalClients } from '../internal-clients/internal-clients';
import type { SessionResult } from './auth.dto';

/** The answer to every reset request: it must not tell whether the address has an account. */
export const PASSWORD_RESET_ACCEPTED = 'If an account has this address, a reset link was mailed to it';

/** A sign-in as REST clients see it. */
export function sessionView(s: authApi.Session): SessionResult {
  return {
    session_id: s.sessionId,
    id: s.sessionId,
    device: s.device,
    address: s.address,
    created_at: s.createdAt,
    last_used_at: s.lastUsedAt,
    expires_at: s.expiresAt,
    current: s.current,
  };
}

/** The gateway's side of accounts and login: the auth service does the work, over gRPC. */
@Injectable()
export class AccountsService {
  constructor(private readonly clients: InternalClients) {}

  register(
    input: { username: string; email: string; password: string },
    origin: commonApi.RequestOrigin,
  ): Promise<authApi.RegisterResponse> {
    return this.clients.auth.call('register', { ...input, origin });
  }

  login(usernameOrEmail: string, password: string, origin: commonApi.RequestOrigin): Promise<authApi.LoginResponse> {
    return this.clients.auth.call('login', { usernameOrEmail, password, origin });
  }

  verifyOtp(sessionId: string, otp: string, origin: commonApi.RequestOrigin): Promise<authApi.TokenPair> {
    return this.clients.auth.call('verifyOtp', { sessionId, otp, origin });
  }

  refresh(tokens: { refreshToken?: string; currentToken?: string }, origin: commonApi.RequestOrigin): Promise<authApi.TokenPair> {
    return this.clients.auth.call('refreshToken', {
      refreshToken: tokens.refreshToken ?? '',
      currentToken: tokens.currentToken ?? '',
      origin,
    });
  }

  async logout(caller: Caller, origin: commonApi.RequestOrigin): Promise<void> {
    await this.clients.auth.call('logout', { caller, origin });
  }

  enrollTotp(caller: Caller, password: string, origin: commonApi.RequestOrigin): Promise<authApi.EnrollTotpResponse> {
    return this.clients.auth.call('enrollTotp', { caller, password, origin });
  }

  async confirmTotp(caller: Caller, code: string, origin: commonApi.RequestOrigin): Promise<string[]> {
    return (await this.clients.auth.call('confirmTotp', { caller, code, origin })).recoveryCodes;
  }

  async disableTotp(caller: Caller, password: string, code: string, origin: commonApi.RequestOrigin): Promise<void> {
    await this.clients.auth.call('disableTotp', { caller, password, code, origin });
  }

  async changePassword(
    caller: Caller,
    passwords: { currentPassword: string; newPassword: string },
    origin: commonApi.RequestOrigin,
  ): Promise<void> {
    await this.clients.auth.call('changePassword', { caller, ...passwords, origin });
  }

  async requestPasswordReset(email: string, origin: commonApi.RequestOrigin): Promise<void> {
    await this.clients.auth.call('requestPasswordReset', { email, origin });
  }

  async confirmPasswordReset(token: string, newPassword: string, origin: commonApi.RequestOrigin): Promise<void> {
    await this.clients.auth.call('confirmPasswordReset', { token, newPassword, origin });
  }

  async listSessions(caller: Caller): Promise<authApi.Session[]> {
    return (await this.clients.auth.call('listSessions', { caller })).sessions;
  }

  async revokeSession(caller: Caller, sessionId: string, origin: commonApi.RequestOrigin): Promise<void> {
    await this.clients.auth.call('revokeSession', { caller, sessionId, origin });
  }

  async logoutAll(caller: Caller, origin: commonApi.RequestOrigin): Promise<void> {
    await this.clients.auth.call('logoutAll', { caller, origin });
  }

  verificationKeys(): Promise<authApi.GetVerificationKeysResponse> {
    return this.clients.auth.call('getVerificationKeys', {});
  }
}
