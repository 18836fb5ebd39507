import type { DynamicModule, INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ProtoService } from '@cloudstore/contracts';
import { type HealthMonitor, type Logger, type Metrics, NestPinoLogger, startMetricsServer } from '@cloudstore/observability';
import { GrpcContextInterceptor } from './grpc-context.interceptor';
import { GrpcExceptionFilter } from './grpc-exception.filter';
import { createGrpcStrategy } from './grpc-server';
import { InternalCallGuard, type UserTokenVerifier } from './internal-authz';
import type { InternalTransport } from './tls/internal-transport';

export interface GrpcServiceRun {
  /** Root module of the service. */
  readonly module: DynamicModule;
  readonly services: readonly ProtoService[];
  readonly port: number;
  /** Interface the gRPC port binds; all of them when absent. */
  readonly host?: string;
  /** Mutual TLS (or, for debugging, plaintext) of the gRPC port. */
  readonly transport: InternalTransport;
  readonly health: HealthMonitor;
  /** See GrpcServerSetup.maxReceiveMessageBytes. */
  readonly maxReceiveMessageBytes: number;
  /** See GrpcServerSetup.replicated. */
  readonly replicated?: boolean;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** 0 for no metrics listener. */
  readonly metricsPort: number;
  /**
   * Verifies the users' access tokens of @ForUser handlers (auth and metadata); given the started
   * app, so that it may use the module's providers.
   */
  readonly userTokens?: (app: INestMicroservice) => UserTokenVerifier;
  /** Releases what the service holds outside Nest (Redis connections, …), after the server stopped. */
  readonly onShutdown?: () => Promise<void> | void;
}

export interface RunningService {
  readonly app: INestMicroservice;
  /** Stops serving and releases everything the service holds. */
  stop(): Promise<void>;
}

/**
 * Starts a gRPC-only service: its handlers and grpc.health.v1.Health on one port, each handler
 * open only to the callers it allows (InternalCallGuard), errors mapped by the one exception
 * filter, request context and metrics around every call, and /metrics on its own port.
 */
export async function startGrpcService(run: GrpcServiceRun): Promise<RunningService> {
  const app = await NestFactory.createMicroservice(run.module, {
    ...createGrpcStrategy({
      services: run.services,
      port: run.port,
      host: run.host,
      credentials: run.transport.serverCredentials(),
      health: run.health,
      maxReceiveMessageBytes: run.maxReceiveMessageBytes,
      replicated: run.replicated,
    }),
    logger: new NestPinoLogger(run.logger),
  });
  app.useGlobalFilters(new GrpcExceptionFilter(run.logger));
  app.useGlobalGuards(new InternalCallGuard(run.transport, run.userTokens?.(app)));
  app.useGlobalInterceptors(new GrpcContextInterceptor(run.metrics));
  await app.listen();
  await run.health.start();
  const metricsServer = run.metricsPort > 0 ? await startMetricsServer(run.metrics, run.metricsPort) : undefined;
  run.logger.info(
    {
      grpcPort: run.port,
      internalTls: run.transport.secure ? 'mutual TLS 1.3' : 'off',
      metricsPort: run.metricsPort || undefined,
      services: run.services.map((s) => `${s.packageName}.${s.serviceName}`),
    },
    'listening',
  );
  return {
    app,
    stop: async () => {
      run.health.stop();
      metricsServer?.close();
      await app.close();
      await run.onShutdown?.();
    },
  };
}
