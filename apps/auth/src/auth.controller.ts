import { Controller } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import { authApi, type commonApi, TokenInvalidError } from '@cloudstore/contracts';
import { toUnixSeconds } from '@cloudstore/database';
import type { Origin } from './audit/audit-trail.service';
import { LoginService } from './login/login.service';
import { PasswordsService } from './passwords/passwords.service';
import { SessionsService } from './sessions/sessions.service';
import { SigningKeysService } from './tokens/signing-keys.service';
import { type TokenPair, TokenIssuer } from './tokens/token-issuer.service';
import { TotpService } from './totp/totp.service';
import { UsersService } from './users/users.service';

export function originOf(origin: commonApi.RequestOrigin | undefined): Origin {
  return {
    ...(origin?.clientAddress ? { clientAddress: origin.clientAddress } : {}),
    ...(origin?.userAgent ? { userAgent: origin.userAgent } : {}),
  };
}

/** The gateway verified the token; the caller it sends must at least be complete. */
export function callerOf(caller: authApi.Caller | undefined): Caller {
  if (!caller?.userId || !caller.tokenId || !caller.familyId) throw new TokenInvalidError('The access token is not valid');
  return caller;
}

function tokenPairResponse(pair: TokenPair): authApi.TokenPair {
  return {
    accessToken: pair.accessToken.token,
    tokenType: 'Bearer',
    expiresAt: pair.accessToken.expiresAt,
    refreshToken: pair.refreshToken,
    refreshExpiresAt: pair.refreshExpiresAt,
  };
}

/** The auth service's gRPC API; each method hands over to the service that owns the work. */
@Controller()
@authApi.AuthServiceControllerMethods()
export class AuthController implements authApi.AuthServiceController {
  constructor(
    private readonly users: UsersService,
    private readonly logins: LoginService,
    private readonly tokens: TokenIssuer,
    private readonly totp: TotpService,
    private readonly signingKeys: SigningKeysService,
    private readonly passwords: PasswordsService,
    private readonly sessions: SessionsService,
  ) {}

  async register(request: authApi.RegisterRequest): Promise<authApi.RegisterResponse> {
    const user = await this.users.register(request, originOf(request.origin));
    return { userId: user.id, createdAt: toUnixSeconds(user.createdAt) };
  }

  async login(request: authApi.LoginRequest): Promise<authApi.LoginResponse> {
    return this.logins.start(request.usernameOrEmail, request.password, originOf(request.origin));
  }

  async verifyOtp(request: authApi.VerifyOtpRequest): Promise<authApi.TokenPair> {
    return tokenPairResponse(await this.logins.verify(request.sessionId, request.otp, originOf(request.origin)));
  }

  async refreshToken(request: authApi.RefreshTokenRequest): Promise<authApi.TokenPair> {
    return tokenPairResponse(await this.tokens.refresh(request, originOf(request.origin)));
  }

  async logout(request: authApi.LogoutRequest): Promise<authApi.LogoutResponse> {
    await this.tokens.logout(callerOf(request.caller), originOf(request.origin));
    return {};
  }

  async enrollTotp(request: authApi.EnrollTotpRequest): Promise<authApi.EnrollTotpResponse> {
    return this.totp.enroll(callerOf(request.caller), request.password, originOf(request.origin));
  }

  async confirmTotp(request: authApi.ConfirmTotpRequest): Promise<authApi.ConfirmTotpResponse> {
    return { recoveryCodes: await this.totp.confirm(callerOf(request.caller), request.code, originOf(request.origin)) };
  }

  async disableTotp(request: authApi.DisableTotpRequest): Promise<authApi.DisableTotpResponse> {
    await this.totp.disable(callerOf(request.caller), request.password, request.code, originOf(request.origin));
    return {};
  }

  async changePassword(request: authApi.ChangePasswordRequest): Promise<authApi.ChangePasswordResponse> {
    await this.passwords.change(callerOf(request.caller), request.currentPassword, request.newPassword, originOf(request.origin));
    return {};
  }

  async requestPasswordReset(request: authApi.RequestPasswordResetRequest): Promise<authApi.RequestPasswordResetResponse> {
    await this.passwords.requestReset(request.email, originOf(request.origin));
    return {};
  }

  async confirmPasswordReset(request: authApi.ConfirmPasswordResetRequest): Promise<authApi.ConfirmPasswordResetResponse> {
    await this.passwords.confirmReset(request.token, request.newPassword, originOf(request.origin));
    return {};
  }

  async listSessions(request: authApi.ListSessionsRequest): Promise<authApi.ListSessionsResponse> {
    const sessions = await this.sessions.list(callerOf(request.caller));
    return {
      sessions: sessions.map((s) => ({
        sessionId: s.id,
        device: s.device,
        address: s.clientAddress,
        createdAt: toUnixSeconds(s.createdAt),
        lastUsedAt: toUnixSeconds(s.lastUsedAt),
        expiresAt: toUnixSeconds(s.expiresAt),
        current: s.current,
      })),
    };
  }

  async revokeSession(request: authApi.RevokeSessionRequest): Promise<authApi.RevokeSessionResponse> {
    await this.sessions.revoke(callerOf(request.caller), request.sessionId, originOf(request.origin));
    return {};
  }

  async logoutAll(request: authApi.LogoutAllRequest): Promise<authApi.LogoutAllResponse> {
    await this.sessions.logoutAll(callerOf(request.caller), originOf(request.origin));
    return {};
  }

  async getVerificationKeys(): Promise<authApi.GetVerificationKeysResponse> {
    const keys = await this.signingKeys.verificationKeys();
    return {
      keys: keys.map((k) => ({ keyId: k.keyId, algorithm: 'EdDSA', publicKeyPem: k.publicKeyPem })),
      issuer: 'cloudstore-auth',
      audience: 'cloudstore',
    };
  }
}
