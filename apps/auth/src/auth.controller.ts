import { Controller } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import { authApi, type commonApi, TokenInvalidError } from '@cloudstore/contracts';
import { toUnixSeconds } from '@cloudstore/database';
import type { Origin } from './audit/audit-trail.service';
import { LoginService } from './login/login.service';
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
    return this.totp.enroll(callerOf(request.caller), originOf(request.origin));
  }

  async confirmTotp(request: authApi.ConfirmTotpRequest): Promise<authApi.ConfirmTotpResponse> {
    return { recoveryCodes: await this.totp.confirm(callerOf(request.caller), request.code, originOf(request.origin)) };
  }

  async disableTotp(request: authApi.DisableTotpRequest): Promise<authApi.DisableTotpResponse> {
    await this.totp.disable(callerOf(request.caller), request.code, originOf(request.origin));
    return {};
  }

  async getVerificationKeys(): Promise<authApi.GetVerificationKeysResponse> {
    const keys = await this.signingKeys.verificationKeys();
    return {
      keys: keys.map((k) => ({ keyId: k.keyId, algorithm: 'EdDSA', publicKeyPem: k.publicKeyPem, notAfter: k.notAfter ?? 0 })),
      issuer: 'cloudstore-auth',
      audience: 'cloudstore',
    };
  }
}
