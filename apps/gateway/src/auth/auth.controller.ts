import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Caller } from '@cloudstore/access-tokens';
import type { authApi } from '@cloudstore/contracts';
import type { Request } from 'express';
import { AccountsService, PASSWORD_RESET_ACCEPTED, sessionView } from './accounts.service';
import {
  ChangePasswordBody,
  LoginBody,
  PasswordResetBody,
  PasswordResetConfirmBody,
  LoginResult,
  RefreshBody,
  RegisterBody,
  RegisterResult,
  SessionsResult,
  TokensResult,
  TotpCodeBody,
  TotpDisableBody,
  TotpEnrollBody,
  VerifyOtpBody,
} from './auth.dto';
import { AuthenticatedGuard, CurrentCaller } from './authenticated.guard';
import { RequestOrigins } from './request-origins';

function tokensResult(pair: authApi.TokenPair): TokensResult {
  return {
    auth_token: pair.accessToken,
    token_type: pair.tokenType,
    expires_at: pair.expiresAt,
    ...(pair.refreshToken ? { refresh_token: pair.refreshToken, refresh_expires_at: pair.refreshExpiresAt } : {}),
  };
}

@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly origins: RequestOrigins,
  ) {}

  @Post('register')
  async register(@Body() body: RegisterBody, @Req() req: Request): Promise<RegisterResult> {
    const result = await this.accounts.register(body, this.origins.http(req));
    return { user_id: result.userId, username: body.username.trim(), created_at: result.createdAt };
  }

  /** Step 1: the password. A code is mailed (or, with an authenticator app, expected). */
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: LoginResult })
  async login(@Body() body: LoginBody, @Req() req: Request): Promise<LoginResult> {
    const result = await this.accounts.login(body.username, body.password, this.origins.http(req));
    return { session_id: result.sessionId, otp_method: result.otpMethod, otp_expires_at: result.otpExpiresAt };
  }

  /** Step 2: the code. Answers with an access token and a refresh token. */
  @Post('verify-otp')
  @HttpCode(200)
  @ApiOkResponse({ type: TokensResult })
  async verifyOtp(@Body() body: VerifyOtpBody, @Req() req: Request): Promise<TokensResult> {
    return tokensResult(await this.accounts.verifyOtp(body.session_id, body.otp, this.origins.http(req)));
  }

  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: TokensResult })
  async refresh(@Body() body: RefreshBody, @Req() req: Request): Promise<TokensResult> {
    const result = tokensResult(
      await this.accounts.refresh({ refreshToken: body.refresh_token, currentToken: body.current_token }, this.origins.http(req)),
    );
    return { ...result, new_token: result.auth_token };
  }

  /** Who the access token belongs to. */
  @Get('me')
  @ApiBearerAuth()
  @UseGuards(AuthenticatedGuard)
  me(@CurrentCaller() caller: Caller): { user_id: string; username: string; role: string; expires_at: number } {
    return { user_id: caller.userId, username: caller.username, role: caller.role, expires_at: caller.expiresAt };
  }

  /** Revokes the access token and every token of its sign-in. */
  @Post('logout')
  @HttpCode(200)
  @ApiBearerAuth()
  @UseGuards(AuthenticatedGuard)
  async logout(@CurrentCaller() caller: Caller, @Req() req: Request): Promise<{ success: true }> {
    await this.accounts.logout(caller, this.origins.http(req));
    return { success: true };
  }

  @Post('totp/enroll')
  @HttpCode(200)
  @ApiBearerAuth()
  @UseGuards(AuthenticatedGuard)
  async enrollTotp(
    @CurrentCaller() caller: Caller,
    @Body() body: TotpEnrollBody,
    @Req() req: Request,
  ): Promise<{ secret: string; otpauth_uri: string }> {
    const result = await this.accounts.enrollTotp(caller, body.password, this.origins.http(req));
    return { secret: result.secret, otpauth_uri: result.otpauthUri };
  }

  @Post('totp/confirm')
  @HttpCode(200)
  @ApiBearerAuth()
  @UseGuards(AuthenticatedGuard)
  async confirmTotp(
    @CurrentCaller() caller: Caller,
    @Body() body: TotpCodeBody,
    @Req() req: Request,
  ): Promise<{ recovery_codes: string[] }> {
    return { recovery_codes: await this.accounts.confirmTotp(caller, body.code, this.origins.http(req)) };
  }

  @Post('totp/disable')
  @HttpCode(200)
  @ApiBearerAuth()
  @UseGuards(AuthenticatedGuard)
  async disableTotp(
    @CurrentCaller() caller: Caller,
    @Body() body: TotpDisableBody,
    @Req() req: Request,
  ): Promise<{ success: true }> {
    await this.accounts.disableTotp(caller, body.password, body.code, this.origins.http(req));
    return { success: true };
  }

  /** With the current password; every other sign-in ends, this one stays. */
  @Post('password')
  @HttpCode(200)
  @ApiBearerAuth()
  @UseGuards(AuthenticatedGuard)
  async changePassword(
    @CurrentCaller() caller: Caller,
    @Body() body: ChangePasswordBody,
    @Req() req: Request,
  ): Promise<{ success: true }> {
    await this.accounts.changePassword(
      caller,
      { currentPassword: body.current_password, newPassword: body.new_password },
      this.origins.http(req),
    );
    return { success: true };
  }

  /** Always 202, whether or not the address has an account; a link is mailed when it has. */
  @Post('password-reset')
  @HttpCode(202)
  @ApiAcceptedResponse()
  async requestPasswordReset(@Body() body: PasswordResetBody, @Req() req: Request): Promise<{ success: true; message: string }> {
    await this.accounts.requestPasswordReset(body.email, this.origins.http(req));
    return { success: true, message: PASSWORD_RESET_ACCEPTED };
  }

  /** The mailed link's token and a new password; every sign-in ends. */
  @Post('password-reset/confirm')
  @HttpCode(200)
  async confirmPasswordReset(@Body() body: PasswordResetConfirmBody, @Req() req: Request): Promise<{ success: true }> {
    await this.accounts.confirmPasswordReset(body.token, body.new_password, this.origins.http(req));
    return { success: true };
  }

  /** The caller's sign-ins that still work, newest first. */
  @Get('sessions')
  @ApiBearerAuth()
  @ApiOkResponse({ type: SessionsResult })
  @UseGuards(AuthenticatedGuard)
  async sessions(@CurrentCaller() caller: Caller): Promise<SessionsResult> {
    return { sessions: (await this.accounts.listSessions(caller)).map(sessionView) };
  }

  /** Ends one of the caller's sign-ins (another user's is answered as unknown: 404). */
  @Delete('sessions/:id')
  @HttpCode(200)
  @ApiBearerAuth()
  @UseGuards(AuthenticatedGuard)
  async revokeSession(@CurrentCaller() caller: Caller, @Param('id') id: string, @Req() req: Request): Promise<{ success: true }> {
    await this.accounts.revokeSession(caller, id, this.origins.http(req));
    return { success: true };
  }

  /** Ends every sign-in of the caller, this one too. */
  @Post('logout-all')
  @HttpCode(200)
  @ApiBearerAuth()
  @UseGuards(AuthenticatedGuard)
  async logoutAll(@CurrentCaller() caller: Caller, @Req() req: Request): Promise<{ success: true }> {
    await this.accounts.logoutAll(caller, this.origins.http(req));
    return { success: true };
  }
}
