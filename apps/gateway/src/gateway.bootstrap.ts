import type { Server as HttpsServer } from 'node:https';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { GatewayConfig } from '@cloudstore/config';
import { ADMIN_SERVICE, CLOUD_STORAGE_SERVICE } from '@cloudstore/contracts';
import { ServerCredentials } from '@grpc/grpc-js';
import {
  createGrpcStrategy,
  GrpcContextInterceptor,
  GrpcExceptionFilter,
  type InternalTransport,
  MESSAGE_ENVELOPE_BYTES,
} from '@cloudstore/grpc';
import { HealthMonitor, type Logger, Metrics, NestPinoLogger } from '@cloudstore/observability';
import { createRedisClient } from '@cloudstore/redis';
import { FileCipher } from './encryption/file-cipher';
import type { MasterKeyring } from '@cloudstore/master-key';
import { GatewayModule } from './gateway.module';
import { ReadinessService } from './health/readiness.service';
import { securityHeaders } from './http/security-headers';
import { serveWebApp } from './http/web-app';
import { TrustedProxies } from './http/trusted-proxies';
import { ProblemDetailsFilter } from './http/problem-details.filter';
import { createValidationPipe } from './http/validation.pipe';
import { InternalClients } from './internal-clients/internal-clients';
import { PUBLIC_TLS_MIN_VERSION, type PublicTls } from './public-tls/public-tls';

/** What gRPC clients send per message by default (grpc-js, grpc-go: their own receive limit). */
const CLIENT_DEFAULT_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * The largest message the public gRPC port takes: an UploadFile message carries at most a chunk
 * of the file (clients send CHUNK_SIZE_BYTES, or their library's 4 MiB, per message) beside its
 * token and filename; every other request is far smaller.
 */
export function publicMessageMaxBytes(config: Pick<GatewayConfig, 'CHUNK_SIZE_BYTES'>): number {
  return Math.max(config.CHUNK_SIZE_BYTES, CLIENT_DEFAULT_MESSAGE_BYTES) + MESSAGE_ENVELOPE_BYTES;
}

export interface RunningGateway {
  stop(): Promise<void>;
}

/**
 * Serves the public gRPC API, the REST API and the probes, over TLS with `publicTls`; the gateway
 * keeps no state of its own.
 */
export async function startGateway(
  config: GatewayConfig,
  masterKeys: MasterKeyring,
  logger: Logger,
  transport: InternalTransport,
  publicTls?: PublicTls,
): Promise<RunningGateway> {
  const cipher = new FileCipher(masterKeys);
  const metrics = new Metrics('gateway');
  const redis = createRedisClient(config, logger);
  const clients = new InternalClients(config, transport);

  // Bodies are parsed per route (JSON for auth and admin); uploads read the raw stream.
  const app = await NestFactory.create<NestExpressApplication>(
    GatewayModule.register({ config, logger, metrics, redis, clients, cipher }),
    {
      bodyParser: false,
      logger: new NestPinoLogger(logger),
      ...(publicTls ? { httpsOptions: publicTls.httpsOptions } : {}),
    },
  );
  app.disable('x-powered-by');
  // Before every route, Swagger's included: each answer carries the headers, errors and 404s too.
  app.use(securityHeaders);
  serveWebApp(app, logger);
  // req.ip and req.protocol believe X-Forwarded-* only from TRUSTED_PROXIES, like RequestOrigins.
  const proxies = new TrustedProxies(config.TRUSTED_PROXIES);
  app.set('trust proxy', (address: string) => proxies.isTrusted(address));
  app.useGlobalFilters(new ProblemDetailsFilter(logger));
  app.useGlobalPipes(createValidationPipe());

  const readiness = app.get(ReadinessService);
  const publicServices = [CLOUD_STORAGE_SERVICE, ADMIN_SERVICE];
  const health = new HealthMonitor(
    publicServices.map((s) => s.serviceName),
    readiness.gatewayDependencies(),
    logger,
  );
  const grpc = app.connectMicroservice(
    createGrpcStrategy({
      services: publicServices,
      port: config.GRPC_PORT,
      // The public port: clients have no cluster certificate; TLS is the public one, if any.
      credentials: publicTls?.grpcCredentials ?? ServerCredentials.createInsecure(),
      health,
      maxReceiveMessageBytes: publicMessageMaxBytes(config),
    }),
    {
      inheritAppConfig: false,
      deferInitialization: true,
    },
  );
  grpc.useGlobalFilters(new GrpcExceptionFilter(logger, { publicEdge: true }));
  grpc.useGlobalInterceptors(new GrpcContextInterceptor(metrics));

  const openApi = new DocumentBuilder()
    .setTitle('cloudstore REST API')
    .setDescription(
      'Accounts with two-factor login, and replicated file storage with quotas. Errors are application/problem+json with a `code`.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, openApi), { jsonDocumentUrl: 'docs/openapi.json' });

  await app.startAllMicroservices();
  await app.listen(config.HTTP_PORT, '0.0.0.0');
  // Node ends any request after 5 minutes by default: a big upload on a slow link is not a dead one.
  // Only a connection that moves no byte for the idle time is closed.
  const server = app.getHttpServer();
  // With httpsOptions, Nest created an https server.
  if (publicTls) publicTls.serve(server as unknown as HttpsServer);
  server.requestTimeout = 0;
  server.setTimeout(config.TRANSFER_IDLE_TIMEOUT_SECONDS * 1000);
  await health.start();
  logger.info(
    {
      grpcPort: config.GRPC_PORT,
      httpPort: config.HTTP_PORT,
      tls: publicTls ? { minVersion: PUBLIC_TLS_MIN_VERSION, certificate: publicTls.served } : 'off',
      masterKeyId: cipher.masterKeyId,
    },
    'listening',
  );

  return {
    stop: async () => {
      health.stop();
      await app.close();
      clients.close();
      redis.disconnect();
    },
  };
}
