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
import { HealthMonitor, type Logger, Metrics } from '@cloudstore/observability';
import { createRedisClient } from '@cloudstore/redis';
import { AuthModule } from './auth.module';
import { AUTH_SCHEMA, createAuthDataSource } from './database/auth-data-source';

/** Brings the database up to date and serves the auth service's gRPC API. */
export async function startAuthService(
  config: AuthConfig,
  logger: Logger,
  transport: InternalTransport,
): Promise<RunningService> {
  const metrics = new Metrics('auth');
  const dataSource = await openServiceDatabase(config.DATABASE_URL, AUTH_SCHEMA, createAuthDataSource, logger);
  const redis = createRedisClient(config, logger);
  const jobsConnection = createJobsConnection(config);
  const auditQueue = createQueue<AuditEvent>(QUEUES.audit, jobsConnection, config.REDIS_KEY_PREFIX);
  const health = new HealthMonitor(
    [AUTH_SERVICE.serviceName, USER_ADMIN_SERVICE.serviceName],
    [
      { name: 'postgres', check: async () => void (await dataSource.query('SELECT 1')) },
      { name: 'redis', check: async () => void (await redis.ping()) },
    ],
    logger,
  );
  return startGrpcService({
    module: AuthModule.register({ config, logger, metrics, dataSource, redis, auditQueue }),
    services: [AUTH_SERVICE, USER_ADMIN_SERVICE],
    port: config.AUTH_PORT,
    host: listenHostFor(config.AUTH_ADDRESS),
    transport,
    health,
    maxReceiveMessageBytes: CONTROL_MESSAGE_MAX_BYTES,
    logger,
    metrics,
    metricsPort: config.METRICS_PORT,
    onShutdown: () => {
      redis.disconnect();
      jobsConnection.disconnect();
    },
  });
}
