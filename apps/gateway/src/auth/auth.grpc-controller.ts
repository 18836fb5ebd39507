import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { CLOUD_STORAGE_SERVICE, publicApi } from '@cloudstore/contracts';
import { AccountsService } from './accounts.service';
import { RequestAuthenticator } from './request-authenticator';
import { RequestOrigins } from './request-origins';

const SERVICE = CLOUD_STORAGE_SERVICE.serviceName;
type Call = ServerUnaryCall<unknown, unknown>;

/** The account RPCs of the public CloudStorageService. */
@Controller()
export class AuthGrpcController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly authenticator: RequestAuthenticator,
    private readonly origins: RequestOrigins,
  ) {}

  @GrpcMethod(SERVICE, 'Register')
  async register(request: publicApi.RegisterRequest, metadata: Metadata, call: Call): Promise<publicApi.RegisterResponse> {
    const result = await this.accounts.register(request, this.origins.grpc(call, metadata));
    return { success: true, message: 'Registered', userId: result.userId, createdAt: result.createdAt };
  }

  @GrpcMethod(SERVICE, 'Login')
  async login(request: publicApi.LoginRequest, metadata: Metadata, call: Call): Promise<publicApi.LoginResponse> {
    const result = await this.accounts.login(request.username, request.password, this.origins.grpc(call, metadata));
    const message =
      result.otpMethod === 'totp' ? 'Enter the code of your authenticator app' : 'A sign-in code was sent to your email';
    return {
      success: true,
      message,
      sessionId: result.sessionId,
      otpMethod: result.otpMethod,
      otpExpiresAt: result.otpExpiresAt,
    };
  }

  @GrpcMethod(SERVICE, 'VerifyOTP')
  async verifyOtp(request: publicApi.VerifyOTPRequest, metadata: Metadata, call: Call): Promise<publicApi.VerifyOTPResponse> {
    const pair = await this.accounts.verifyOtp(request.sessionId, request.otp, this.origins.grpc(call, metadata));
    return {
      success: true,
      message: 'Signed in',
      authToken: pair.accessToken,
      tokenType: pair.tokenType,
      expiresAt: pair.expiresAt,
      refreshToken: pair.refreshToken,
      refreshExpiresAt: pair.refreshExpiresAt,
    };
  }

  @GrpcMethod(SERVICE, 'RefreshToken')
  async refreshToken(
    request: publicApi.RefreshTokenRequest,
    metadata: Metadata,
    call: Call,
  ): Promise<publicApi.RefreshTokenResponse> {
    const pair = await this.accounts.refresh(
      { refreshToken: request.refreshToken, currentToken: request.currentToken },
      this.origins.grpc(call, metadata),
    );
    return {
      success: true,
      message: 'Token renewed',
      newToken: pair.accessToken,
      expiresAt: pair.expiresAt,
      refreshToken: pair.refreshToken,
      refreshExpiresAt: pair.refreshExpiresAt,
      tokenType: pair.tokenType,
    };
  }

  @GrpcMethod(SERVICE, 'Logout')
  async logout(request: publicApi.LogoutRequest, metadata: Metadata, call: Call): Promise<publicApi.LogoutResponse> {
    const caller = await this.authenticator.fromGrpc(request.authToken, metadata);
    await this.accounts.logout(caller, this.origins.grpc(call, metadata));
    return { success: true, message: 'Signed out' };
  }

  @GrpcMethod(SERVICE, 'EnrollTotp')
  async enrollTotp(request: publicApi.EnrollTotpRequest, metadata: Metadata, call: Call): Promise<publicApi.EnrollTotpResponse> {
    const caller = await this.authenticator.fromGrpc(request.authToken, metadata);
    const result = await this.accounts.enrollTotp(caller, this.origins.grpc(call, metadata));
    return { success: true, secret: result.secret, otpauthUri: result.otpauthUri };
  }

  @GrpcMethod(SERVICE, 'ConfirmTotp')
  async confirmTotp(
    request: publicApi.ConfirmTotpRequest,
    metadata: Metadata,
    call: Call,
  ): Promise<publicApi.ConfirmTotpResponse> {
    const caller = await this.authenticator.fromGrpc(request.authToken, metadata);
    return {
      success: true,
      recoveryCodes: await this.accounts.confirmTotp(caller, request.code, this.origins.grpc(call, metadata)),
    };
  }

  @GrpcMethod(SERVICE, 'DisableTotp')
  async disableTotp(
    request: publicApi.DisableTotpRequest,
    metadata: Metadata,
    call: Call,
  ): Promise<publicApi.DisableTotpResponse> {
    const caller = await this.authenticator.fromGrpc(request.authToken, metadata);
    await this.accounts.disableTotp(caller, request.code, this.origins.grpc(call, metadata));
    return { success: true };
  }
}
