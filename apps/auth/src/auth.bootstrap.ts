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
import type { MasterKey } from '@cloudstore/master-key';
import { HealthMonitor, type Logger, Metrics } from '@cloudstore/observability';
import { createRedisClient } from '@cloudstore/redis';
import { AuthModule, type AuthModuleOptions } from './auth.module';
import { AUTH_SCHEMA, createAuthDataSource } from './database/auth-data-source';
import { type Rotation, SigningKeysService } from './tokens/signing-keys.service';

/** The auth module's stores, opened (the database migrated), and how to close them. */
async function openAuthStores(
  config: AuthConfig,
  logger: Logger,
  masterKey: MasterKey,
): Promise<{ options: AuthModuleOptions; close: () => void }> {
  const dataSource = await openServiceDatabase(config.DATABASE_URL, AUTH_SCHEMA, createAuthDataSource, logger);
  const redis = createRedisClient(config, logger);
  const jobsConnection = createJobsConnection(config);
  const auditQueue = createQueue<AuditEvent>(QUEUES.audit, jobsConnection, config.REDIS_KEY_PREFIX);
  return {
    options: { config, logger, metrics: new Metrics('auth'), dataSource, redis, auditQueue, masterKey },
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
  masterKey: MasterKey,
): Promise<RunningService> {
  const { options, close } = await openAuthStores(config, logger, masterKey);
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
  masterKey: MasterKey,
  operator: string,
): Promise<Rotation> {
  const { options, close } = await openAuthStores(config, logger, masterKey);
  const app = await NestFactory.createApplicationContext(AuthModule.register(options), { logger: false });
  try {
    return await app.get(SigningKeysService).rotate({ operator });
  } finally {
    await app.close(); // closes the database too (TypeOrmModule)
    close();
  }
}
