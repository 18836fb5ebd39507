import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/**
 * Bodies are checked for shape here; the auth service checks content and answers with its codes.
 * Passwords have no length here: auth refuses one over 1 KiB of raw bytes before any work, with
 * WEAK_PASSWORD (register) or INVALID_CREDENTIALS (login), the same as over gRPC; the 64 KiB
 * body limit bounds what reaches it.
 */
const MAX = 1024;

export class RegisterBody {
  @ApiProperty({ example: 'alice_smith', description: '3-32 letters, digits or underscore' })
  @IsString()
  @MaxLength(MAX)
  username!: string;

  @ApiProperty({ example: 'alice@example.com' })
  @IsString()
  @MaxLength(MAX)
  email!: string;

  @ApiProperty({
    example: 'Correct-Horse-Battery-9',
    description: 'PASSWORD_POLICY seed: 12+ chars with upper, lower, digit, special; at most 1 KiB (UTF-8)',
  })
  @IsString()
  password!: string;
}

export class LoginBody {
  @ApiProperty({ example: 'alice_smith', description: 'username or email' })
  @IsString()
  @MaxLength(MAX)
  username!: string;

  @ApiProperty()
  @IsString()
  password!: string;
}

export class VerifyOtpBody {
  @ApiProperty()
  @IsString()
  @MaxLength(MAX)
  session_id!: string;

  @ApiProperty({ example: '123456', description: 'the mailed code, a TOTP code, or a recovery code' })
  @IsString()
  @MaxLength(MAX)
  otp!: string;
}

export class RefreshBody {
  @ApiPropertyOptional({ description: 'a refresh token: rotated, answered with a new pair' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX)
  refresh_token?: string;

  @ApiPropertyOptional({ description: 'a valid access token: answered with a new one, and this one is revoked' })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  current_token?: string;
}

export class TotpCodeBody {
  @ApiProperty({ example: '123456' })
  @IsString()
  @MaxLength(MAX)
  code!: string;
}

export class TotpEnrollBody {
  @ApiProperty({ description: "the account's password, asked again" })
  @IsString()
  password!: string;
}

export class TotpDisableBody extends TotpCodeBody {
  @ApiProperty({ description: "the account's password, asked again" })
  @IsString()
  password!: string;
}

export class ChangePasswordBody {
  @ApiProperty()
  @IsString()
  current_password!: string;

  @ApiProperty({ description: 'the password policy applies' })
  @IsString()
  new_password!: string;
}

export class PasswordResetBody {
  @ApiProperty({ example: 'alice@example.com' })
  @IsString()
  @MaxLength(MAX)
  email!: string;
}

export class PasswordResetConfirmBody {
  @ApiProperty({ description: 'the `token` query parameter of the mailed link' })
  @IsString()
  @MaxLength(MAX)
  token!: string;

  @ApiProperty({ description: 'the password policy applies' })
  @IsString()
  new_password!: string;
}

export class SessionResult {
  @ApiProperty() session_id!: string;
  @ApiProperty({ description: 'the same as session_id' }) id!: string;
  @ApiProperty({ description: 'the user agent of the login' }) device!: string;
  @ApiProperty({ description: 'the client address of the login' }) address!: string;
  @ApiProperty({ description: 'Unix seconds' }) created_at!: number;
  @ApiProperty({ description: 'Unix seconds: the login or the last refresh' }) last_used_at!: number;
  @ApiProperty({ description: 'Unix seconds: SESSION_MAX_AGE_SECONDS after the login' }) expires_at!: number;
  @ApiProperty({ description: 'the sign-in of the token that asks' }) current!: boolean;
}

export class SessionsResult {
  @ApiProperty({ type: [SessionResult] }) sessions!: SessionResult[];
}

export class RegisterResult {
  @ApiProperty() user_id!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ description: 'Unix seconds' }) created_at!: number;
}

export class LoginResult {
  @ApiProperty() session_id!: string;
  @ApiProperty({ enum: ['email', 'totp'] }) otp_method!: string;
  @ApiProperty({ description: 'Unix seconds' }) otp_expires_at!: number;
}

export class TokensResult {
  @ApiProperty() auth_token!: string;
  @ApiProperty({ description: 'the same as auth_token, under the name of the gRPC RefreshTokenResponse' }) new_token?: string;
  @ApiProperty({ example: 'Bearer' }) token_type!: string;
  @ApiProperty({ description: 'Unix seconds' }) expires_at!: number;
  @ApiPropertyOptional() refresh_token?: string;
  @ApiPropertyOptional({ description: 'Unix seconds' }) refresh_expires_at?: number;
}
