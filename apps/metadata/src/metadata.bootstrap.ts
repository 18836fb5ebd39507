import { AccessTokenVerifier, TokenRevocations } from '@cloudstore/access-tokens';
import type { MetadataConfig } from '@cloudstore/config';
import {
  AUDIT_LOG_SERVICE,
  AUTH_SERVICE,
  type authApi,
  FILE_SERVICE,
  NODE_REGISTRY_SERVICE,
  QUOTA_SERVICE,
} from '@cloudstore/contracts';
import { openServiceDatabase } from '@cloudstore/database';
import {
  CONTROL_MESSAGE_MAX_BYTES,
  GrpcServiceClient,
  type InternalTransport,
  listenHostFor,
  type RunningService,
  startGrpcService,
} from '@cloudstore/grpc';
import type { MasterKeyring } from '@cloudstore/master-key';
import { HealthMonitor, type Logger, Metrics } from '@cloudstore/observability';
import { createRedisClient } from '@cloudstore/redis';
import { AuditChainKeys } from './audit/audit-chain-keys';
import { AuditChainKeysRepository } from './audit/audit-chain-keys.repository';
import { createMetadataDataSource, METADATA_SCHEMA } from './database/metadata-data-source';
import { MetadataModule } from './metadata.module';

/** Brings the database up to date and serves the metadata service's gRPC API. */
export async function startMetadataService(
  config: MetadataConfig,
  logger: Logger,
  transport: InternalTransport,
  masterKeys: MasterKeyring,
): Promise<RunningService> {
  const metrics = new Metrics('metadata');
  const dataSource = await openServiceDatabase(config.DATABASE_URL, METADATA_SCHEMA, createMetadataDataSource, logger);
  const auditChain = await new AuditChainKeys(masterKeys, new AuditChainKeysRepository(dataSource)).chain();
  const redis = createRedisClient(config, logger);
  const services = [NODE_REGISTRY_SERVICE, FILE_SERVICE, QUOTA_SERVICE, AUDIT_LOG_SERVICE];
  const health = new HealthMonitor(
    services.map((s) => s.serviceName),
    [
      { name: 'postgres', check: async () => void (await dataSource.query('SELECT 1')) },
      { name: 'redis', check: async () => void (await redis.ping()) },
    ],
    logger,
  );
  // Users' access tokens are verified here too, with auth's public keys and the shared revocations.
  const auth = new GrpcServiceClient<authApi.AuthServiceClient>(AUTH_SERVICE, config.AUTH_ADDRESS, transport, 5000);
  const userTokens = new AccessTokenVerifier(
    async () => (await auth.call('getVerificationKeys', {})).keys,
    new TokenRevocations(redis, config.REDIS_KEY_PREFIX),
  );
  return startGrpcService({
    module: MetadataModule.register({ config, logger, metrics, dataSource, redis, transport, auditChain }),
    services,
    port: config.METADATA_PORT,
    host: listenHostFor(config.METADATA_ADDRESS),
    transport,
    userTokens: () => userTokens,
    health,
    maxReceiveMessageBytes: CONTROL_MESSAGE_MAX_BYTES,
    replicated: true,
    logger,
    metrics,
    metricsPort: config.METRICS_PORT,
    onShutdown: () => {
      auth.close();
      redis.disconnect();
    },
  });
}
