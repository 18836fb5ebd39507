import { type DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessTokenVerifier, TokenRevocations } from '@cloudstore/access-tokens';
import type { AuthConfig } from '@cloudstore/config';
import type { MasterKeyring } from '@cloudstore/master-key';
import { type Logger, type Metrics, observabilityProviders } from '@cloudstore/observability';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { AuditTrail } from './audit/audit-trail.service';
import { AuthController } from './auth.controller';
import { AUDIT_QUEUE, AUTH_CONFIG, REDIS } from './auth.tokens';
import { AccountErasureService } from './account-erasure/account-erasure.service';
import { LoginService } from './login/login.service';
import { LoginSessionsStore } from './login/login-sessions.store';
import { OtpMailer } from './login/otp-mailer';
import { AuthSecrets } from './secrets/auth-secrets';
import { PasswordResetsRepository } from './passwords/password-resets.repository';
import { PasswordsService } from './passwords/passwords.service';
import { Reauthentication } from './passwords/reauthentication.service';
import { BruteForceProtection } from './rate-limits/brute-force-protection.service';
import { AuthRetentionProcessor } from './retention/auth-retention.processor';
import { AuthRetentionRepository } from './retention/auth-retention.repository';
import { SessionsService } from './sessions/sessions.service';
import { SignInsRepository } from './sessions/sign-ins.repository';
import { RefreshTokensRepository } from './tokens/refresh-tokens.repository';
import { SigningKeysService } from './tokens/signing-keys.service';
import { TokenIssuer } from './tokens/token-issuer.service';
import { RecoveryCodesRepository } from './totp/recovery-codes.repository';
import { TotpSecrets } from './totp/totp-secrets';
import { TotpService } from './totp/totp.service';
import { PasswordHasher } from './users/password-hasher';
import { UserAdminController } from './users/user-admin.controller';
import { UsersRepository } from './users/users.repository';
import { UsersService } from './users/users.service';

export interface AuthModuleOptions {
  readonly config: AuthConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Initialised and migrated by the bootstrap before the module starts. */
  readonly dataSource: DataSource;
  readonly redis: Redis;
  readonly auditQueue: Queue;
  /** Seal the service's secrets (MASTER_KEY, or DATA_DIR/master.key as the gateway's; MASTER_KEY_PREVIOUS opens only). */
  readonly masterKeys: MasterKeyring;
}

/** What the process provides to every feature: config, stores, logger, metrics. */
@Global()
@Module({})
class AuthCoreModule {
  static register(options: AuthModuleOptions): DynamicModule {
    const providers = [
      { provide: AUTH_CONFIG, useValue: options.config },
      { provide: REDIS, useValue: options.redis },
      { provide: AUDIT_QUEUE, useValue: options.auditQueue },
      { provide: AuthSecrets, useValue: new AuthSecrets(options.masterKeys) },
      ...observabilityProviders(options.logger, options.metrics),
    ];
    return { module: AuthCoreModule, providers, exports: providers };
  }
}

@Module({})
export class AuthModule {
  static register(options: AuthModuleOptions): DynamicModule {
    return {
      module: AuthModule,
      imports: [
        AuthCoreModule.register(options),
        TypeOrmModule.forRootAsync({
          useFactory: () => options.dataSource.options,
          dataSourceFactory: () => Promise.resolve(options.dataSource),
        }),
      ],
      controllers: [AuthController, UserAdminController],
      providers: [
        AccountErasureService,
        AuditTrail,
        AuthRetentionProcessor,
        AuthRetentionRepository,
        BruteForceProtection,
        LoginService,
        LoginSessionsStore,
        OtpMailer,
        PasswordHasher,
        PasswordResetsRepository,
        PasswordsService,
        Reauthentication,
        RecoveryCodesRepository,
        RefreshTokensRepository,
        SessionsService,
        SigningKeysService,
        SignInsRepository,
        TokenIssuer,
        TotpSecrets,
        TotpService,
        UsersRepository,
        UsersService,
        {
          provide: TokenRevocations,
          useFactory: () => new TokenRevocations(options.redis, options.config.REDIS_KEY_PREFIX),
        },
        {
          provide: AccessTokenVerifier,
          inject: [SigningKeysService, TokenRevocations],
          useFactory: (keys: SigningKeysService, revocations: TokenRevocations) =>
            new AccessTokenVerifier(() => keys.verificationKeys(), revocations, options.config.ACCESS_TOKEN_TTL_SECONDS),
        },
      ],
    };
  }
}
