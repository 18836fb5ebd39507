import type { DynamicModule, INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ProtoService } from '@cloudstore/contracts';
import type { Server } from 'node:http';
import {
  type HealthMonitor,
  type Logger,
  type Metrics,
  NestPinoLogger,
  SHUTDOWN_TIMEOUT_MS,
  startMetricsServer,
} from '@cloudstore/observability';
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
  /** Port of /metrics, /healthz and /readyz; 0 for none. */
  readonly metricsPort: number;
  /**
   * Verifies the users' access tokens of @ForUser handlers (auth and metadata); given the started
   * app, so that it may use the module's providers.
   */
  readonly userTokens?: (app: INestMicroservice) => UserTokenVerifier;
  /**
   * Releases what the service holds outside Nest (Redis connections, …), after the server stopped
   * and every call ended.
   */
  readonly onShutdown?: () => Promise<void> | void;
}

/**
 * How long a stopping service lets the calls under way finish before it cancels those left; the
 * rest of SHUTDOWN_TIMEOUT_MS is for their handlers to clean up (a storage node drops a chunk it
 * was writing) and for the service to release what it holds.
 */
export const CALLS_DRAIN_MS = SHUTDOWN_TIMEOUT_MS - 5_000;

export interface RunningService {
  readonly app: INestMicroservice;
  /**
   * Stops serving and releases everything the service holds: not ready at once (readiness 503,
   * health NOT_SERVING), no new calls, the calls under way given `drainMs` to finish, then
   * cancelled. The probes answer until the end.
   */
  stop(drainMs?: number): Promise<void>;
}

function closeServer(server: Server | undefined): Promise<void> {
  return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
}

/**
 * Starts a gRPC-only service: its handlers and grpc.health.v1.Health on one port, each handler
 * open only to the callers it allows (InternalCallGuard), errors mapped by the one exception
 * filter, request context and metrics around every call; /metrics and the probes on their own port.
 */
export async function startGrpcService(run: GrpcServiceRun): Promise<RunningService> {
  const grpc = createGrpcStrategy({
    services: run.services,
    port: run.port,
    host: run.host,
    credentials: run.transport.serverCredentials(),
    health: run.health,
    maxReceiveMessageBytes: run.maxReceiveMessageBytes,
    replicated: run.replicated,
  });
  const app = await NestFactory.createMicroservice(run.module, { ...grpc, logger: new NestPinoLogger(run.logger) });
  app.useGlobalFilters(new GrpcExceptionFilter(run.logger));
  app.useGlobalGuards(new InternalCallGuard(run.transport, run.userTokens?.(app)));
  app.useGlobalInterceptors(new GrpcContextInterceptor(run.metrics));
  await app.listen();
  await run.health.start();
  const probes = run.metricsPort > 0 ? await startMetricsServer(run.metrics, run.health, run.metricsPort) : undefined;
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
    stop: async (drainMs = CALLS_DRAIN_MS) => {
      // Readiness first, so that no new work is sent here while the calls under way finish.
      run.health.stop();
      const abort = setTimeout(() => {
        run.logger.warn({ drainMs }, 'calls still open after the drain time: cancelling them');
        grpc.strategy.abortCalls();
      }, drainMs);
      try {
        // Nest closes the gRPC server first (no new calls; it resolves once the open ones ended), then the modules.
        await app.close();
      } finally {
        clearTimeout(abort);
      }
      await run.onShutdown?.();
      await closeServer(probes);
    },
  };
}
