import { AccessTokenVerifier } from '@cloudstore/access-tokens';
import { NestFactory } from '@nestjs/core';
import type { AuthConfig } from '@cloudstore/config';
import { AUTH_SERVICE, USER_ADMIN_SERVICE } from '@cloudstore/contracts';
import { openServiceDatabase } from '@cloudstore/database';
import {
  CONTROL_MESSAGE_MAX_BYTES,
  type InternalTransport,
  listenHostFor,
  type RunningService,
  startGrpcService,
} from '@cloudstore/grpc';
import { type AuditEvent, createJobsConnection, createQueue, QUEUES } from '@cloudstore/jobs';
import type { MasterKeyring } from '@cloudstore/master-key';
import { HealthMonitor, type Logger, Metrics } from '@cloudstore/observability';
import { createRedisClient } from '@cloudstore/redis';
import { AuthModule, type AuthModuleOptions } from './auth.module';
import { AUTH_SCHEMA, createAuthDataSource } from './database/auth-data-source';
import { type Rotation, SigningKeysService } from './tokens/signing-keys.service';
import { TotpSecrets } from './totp/totp-secrets';

/** The auth module's stores, opened (the database migrated), and how to close them. */
async function openAuthStores(
  config: AuthConfig,
  logger: Logger,
  masterKeys: MasterKeyring,
): Promise<{ options: AuthModuleOptions; close: () => void }> {
  const dataSource = await openServiceDatabase(config.DATABASE_URL, AUTH_SCHEMA, createAuthDataSource, logger);
  const redis = createRedisClient(config, logger);
  const jobsConnection = createJobsConnection(config);
  const auditQueue = createQueue<AuditEvent>(QUEUES.audit, jobsConnection, config.REDIS_KEY_PREFIX);
  return {
    options: { config, logger, metrics: new Metrics('auth'), dataSource, redis, auditQueue, masterKeys },
    close: () => {
      redis.disconnect();
      jobsConnection.disconnect();
    },
  };
}

/** Brings the database up to date and serves the auth service's gRPC API. */
export async function startAuthService(
  config: AuthConfig,
  logger: Logger,
  transport: InternalTransport,
  masterKeys: MasterKeyring,
): Promise<RunningService> {
  const { options, close } = await openAuthStores(config, logger, masterKeys);
  const { dataSource, redis, metrics } = options;
  const health = new HealthMonitor(
    [AUTH_SERVICE.serviceName, USER_ADMIN_SERVICE.serviceName],
    [
      { name: 'postgres', check: async () => void (await dataSource.query('SELECT 1')) },
      { name: 'redis', check: async () => void (await redis.ping()) },
    ],
    logger,
  );
  return startGrpcService({
    module: AuthModule.register(options),
    services: [AUTH_SERVICE, USER_ADMIN_SERVICE],
    port: config.AUTH_PORT,
    host: listenHostFor(config.AUTH_ADDRESS),
    transport,
    // Auth checks the tokens it issued with its own keys.
    userTokens: (app) => app.get(AccessTokenVerifier),
    health,
    maxReceiveMessageBytes: CONTROL_MESSAGE_MAX_BYTES,
    replicated: true,
    logger,
    metrics,
    metricsPort: config.METRICS_PORT,
    onShutdown: close,
  });
}

/**
 * `npm run keys:rotate`: the auth module without its gRPC server, on the same database, Redis and
 * master key as the running services, rotates the signing key once (audited) and stops.
 */
export async function rotateSigningKeyOnce(
  config: AuthConfig,
  logger: Logger,
  masterKeys: MasterKeyring,
  operator: string,
): Promise<Rotation> {
  const { options, close } = await openAuthStores(config, logger, masterKeys);
  const app = await NestFactory.createApplicationContext(AuthModule.register(options), { logger: false });
  try {
    return await app.get(SigningKeysService).rotate({ operator });
  } finally {
    await app.close(); // closes the database too (TypeOrmModule)
    close();
  }
}

/** How many sealed secrets a master-key rotation re-sealed. */
export interface Resealing {
  readonly signingKeys: number;
  readonly totpSecrets: number;
}

/**
 * `npm run keys:rotate-master` (its auth part): the auth module without its gRPC server re-seals
 * under the current master key every signing key and TOTP secret sealed under another, and stops.
 */
export async function resealSecretsOnce(config: AuthConfig, logger: Logger, masterKeys: MasterKeyring): Promise<Resealing> {
  const { options, close } = await openAuthStores(config, logger, masterKeys);
  const app = await NestFactory.createApplicationContext(AuthModule.register(options), { logger: false });
  try {
    return {
      signingKeys: await app.get(SigningKeysService).resealUnderCurrentKey(),
      totpSecrets: await app.get(TotpSecrets).resealUnderCurrentKey(),
    };
  } finally {
    await app.close(); // closes the database too (TypeOrmModule)
    close();
  }
}
