import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { authApi, type commonApi } from '@cloudstore/contracts';
import { toUnixSeconds } from '@cloudstore/database';
import { AllowedCallers, ForUser, verifiedUser } from '@cloudstore/grpc';
import { AccountErasureService } from './account-erasure/account-erasure.service';
import type { Origin } from './audit/audit-trail.service';
import { LoginService } from './login/login.service';
import { PasswordsService } from './passwords/passwords.service';
import { SessionsService, type SessionView } from './sessions/sessions.service';
import { SigningKeysService } from './tokens/signing-keys.service';
import { type TokenPair, TokenIssuer } from './tokens/token-issuer.service';
import { TotpService } from './totp/totp.service';
import { userResponse } from './users/user-response';
import { UsersService } from './users/users.service';

export function originOf(origin: commonApi.RequestOrigin | undefined): Origin {
  return {
    ...(origin?.clientAddress ? { clientAddress: origin.clientAddress } : {}),
    ...(origin?.userAgent ? { userAgent: origin.userAgent } : {}),
  };
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

function sessionResponse(s: SessionView): authApi.Session {
  return {
    sessionId: s.id,
    device: s.device,
    address: s.clientAddress,
    createdAt: toUnixSeconds(s.createdAt),
    lastUsedAt: toUnixSeconds(s.lastUsedAt),
    expiresAt: toUnixSeconds(s.expiresAt),
    current: s.current,
  };
}

/**
 * The auth service's gRPC API; each method hands over to the service that owns the work. Only
 * the gateway calls it; a call for a signed-in user acts for the user of the access token it
 * carries (the request's `caller` field is not read).
 */
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
    private readonly erasure: AccountErasureService,
  ) {}

  @AllowedCallers('gateway')
  async register(request: authApi.RegisterRequest): Promise<authApi.RegisterResponse> {
    const user = await this.users.register(request, originOf(request.origin));
    return { userId: user.id, createdAt: toUnixSeconds(user.createdAt) };
  }

  @AllowedCallers('gateway')
  async login(request: authApi.LoginRequest): Promise<authApi.LoginResponse> {
    return this.logins.start(request.usernameOrEmail, request.password, originOf(request.origin));
  }

  @AllowedCallers('gateway')
  async verifyOtp(request: authApi.VerifyOtpRequest): Promise<authApi.TokenPair> {
    return tokenPairResponse(await this.logins.verify(request.sessionId, request.otp, originOf(request.origin)));
  }

  @AllowedCallers('gateway')
  async refreshToken(request: authApi.RefreshTokenRequest): Promise<authApi.TokenPair> {
    return tokenPairResponse(await this.tokens.refresh(request, originOf(request.origin)));
  }

  @AllowedCallers('gateway')
  @ForUser()
  async logout(request: authApi.LogoutRequest, metadata?: Metadata): Promise<authApi.LogoutResponse> {
    await this.tokens.logout(verifiedUser(metadata), originOf(request.origin));
    return {};
  }

  @AllowedCallers('gateway')
  @ForUser()
  async enrollTotp(request: authApi.EnrollTotpRequest, metadata?: Metadata): Promise<authApi.EnrollTotpResponse> {
    return this.totp.enroll(verifiedUser(metadata), request.password, originOf(request.origin));
  }

  @AllowedCallers('gateway')
  @ForUser()
  async confirmTotp(request: authApi.ConfirmTotpRequest, metadata?: Metadata): Promise<authApi.ConfirmTotpResponse> {
    return { recoveryCodes: await this.totp.confirm(verifiedUser(metadata), request.code, originOf(request.origin)) };
  }

  @AllowedCallers('gateway')
  @ForUser()
  async disableTotp(request: authApi.DisableTotpRequest, metadata?: Metadata): Promise<authApi.DisableTotpResponse> {
    await this.totp.disable(verifiedUser(metadata), request.password, request.code, originOf(request.origin));
    return {};
  }

  @AllowedCallers('gateway')
  @ForUser()
  async changePassword(request: authApi.ChangePasswordRequest, metadata?: Metadata): Promise<authApi.ChangePasswordResponse> {
    await this.passwords.change(verifiedUser(metadata), request.currentPassword, request.newPassword, originOf(request.origin));
    return {};
  }

  @AllowedCallers('gateway')
  async requestPasswordReset(request: authApi.RequestPasswordResetRequest): Promise<authApi.RequestPasswordResetResponse> {
    await this.passwords.requestReset(request.email, originOf(request.origin));
    return {};
  }

  @AllowedCallers('gateway')
  async confirmPasswordReset(request: authApi.ConfirmPasswordResetRequest): Promise<authApi.ConfirmPasswordResetResponse> {
    await this.passwords.confirmReset(request.token, request.newPassword, originOf(request.origin));
    return {};
  }

  @AllowedCallers('gateway')
  @ForUser()
  async listSessions(_request: authApi.ListSessionsRequest, metadata?: Metadata): Promise<authApi.ListSessionsResponse> {
    return { sessions: (await this.sessions.list(verifiedUser(metadata))).map(sessionResponse) };
  }

  @AllowedCallers('gateway')
  @ForUser()
  async revokeSession(request: authApi.RevokeSessionRequest, metadata?: Metadata): Promise<authApi.RevokeSessionResponse> {
    await this.sessions.revoke(verifiedUser(metadata), request.sessionId, originOf(request.origin));
    return {};
  }

  @AllowedCallers('gateway')
  @ForUser()
  async logoutAll(request: authApi.LogoutAllRequest, metadata?: Metadata): Promise<authApi.LogoutAllResponse> {
    await this.sessions.logoutAll(verifiedUser(metadata), originOf(request.origin));
    return {};
  }

  @AllowedCallers('gateway')
  @ForUser()
  async exportAccount(request: authApi.ExportAccountRequest, metadata?: Metadata): Promise<authApi.AccountExport> {
    const caller = verifiedUser(metadata);
    const [user, sessions] = await Promise.all([
      this.users.exportOwn(caller, originOf(request.origin)),
      this.sessions.list(caller),
    ]);
    return { user: userResponse(user), sessions: sessions.map(sessionResponse) };
  }

  @AllowedCallers('gateway')
  @ForUser()
  async confirmAccountErasure(
    request: authApi.ConfirmAccountErasureRequest,
    metadata?: Metadata,
  ): Promise<authApi.ConfirmAccountErasureResponse> {
    await this.erasure.confirm(verifiedUser(metadata), request.password, originOf(request.origin));
    return {};
  }

  @AllowedCallers('gateway')
  @ForUser()
  async deleteAccount(_request: authApi.DeleteAccountRequest, metadata?: Metadata): Promise<authApi.DeleteAccountResponse> {
    await this.erasure.deleteOwn(verifiedUser(metadata));
    return {};
  }

  @AllowedCallers('gateway')
  @ForUser()
  async findUser(request: authApi.FindUserRequest): Promise<authApi.FoundUser> {
    const user = await this.users.findActiveByUsername(request.username);
    return { userId: user.id, username: user.username };
  }

  /** The gateway and metadata verify users' tokens with these. */
  @AllowedCallers('gateway', 'metadata')
  async getVerificationKeys(): Promise<authApi.GetVerificationKeysResponse> {
    const keys = await this.signingKeys.verificationKeys();
    return {
      keys: keys.map((k) => ({ keyId: k.keyId, algorithm: 'EdDSA', publicKeyPem: k.publicKeyPem, notAfter: k.notAfter ?? 0 })),
      issuer: 'cloudstore-auth',
      audience: 'cloudstore',
    };
  }
}
