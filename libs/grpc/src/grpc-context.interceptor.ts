import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { DomainError } from '@cloudstore/contracts';
import { REQUEST_ID_HEADER, runWithRequestId, type Metrics } from '@cloudstore/observability';
import { Observable } from 'rxjs';

/** Finds the call metadata whether the handler is unary (request, metadata, call) or a stream call (call). */
export function callMetadata(context: ExecutionContext): Metadata | undefined {
  for (const arg of context.getArgs<unknown[]>()) {
    if (arg instanceof Metadata) return arg;
    const metadata = (arg as { metadata?: unknown } | undefined)?.metadata;
    if (metadata instanceof Metadata) return metadata;
  }
  return undefined;
}

/** The proto service and method a handler was registered for by @GrpcMethod / @GrpcStreamCall. */
function rpcNameOf(context: ExecutionContext): { grpc_service: string; grpc_method: string } {
  const patterns: unknown = Reflect.getMetadata(PATTERN_METADATA, context.getHandler());
  const pattern = (Array.isArray(patterns) ? patterns[0] : patterns) as { service?: string; rpc?: string } | undefined;
  const method = pattern?.rpc ?? context.getHandler().name;
  return {
    grpc_service: pattern?.service ?? context.getClass().name,
    // As the proto names it (RegisterNode): ts-proto's generated decorators register it in camelCase.
    grpc_method: method.charAt(0).toUpperCase() + method.slice(1),
  };
}

function grpcCodeOf(error: unknown): string {
  const code = error instanceof DomainError ? error.grpcStatus : GrpcStatus.INTERNAL;
  return GrpcStatus[code] ?? String(code);
}

/** @GrpcStreamCall handlers get (call, callback) and record their own metrics (answerStreamCall). */
export function isStreamCall(context: Pick<ExecutionContext, 'getArgs'>): boolean {
  return typeof context.getArgs<unknown[]>()[1] === 'function';
}

/**
 * Runs every RPC handler inside its request context (the caller's x-request-id, or a new one)
 * and records its count and latency.
 */
export class GrpcContextInterceptor implements NestInterceptor {
  constructor(private readonly metrics: Metrics) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const labels = rpcNameOf(context);
    const requestId = callMetadata(context)?.get(REQUEST_ID_HEADER)[0];
    return new Observable((subscriber) =>
      runWithRequestId(typeof requestId === 'string' ? requestId : undefined, () => {
        const stopTimer = this.metrics.grpcHandlingSeconds.startTimer(labels);
        const recordMetrics = !isStreamCall(context);
        const finish = (code: string) => {
          if (!recordMetrics) return;
          stopTimer();
          this.metrics.grpcHandled.inc({ ...labels, grpc_code: code });
        };
        return next.handle().subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => {
            finish(grpcCodeOf(error));
            subscriber.error(error);
          },
          complete: () => {
            finish('OK');
            subscriber.complete();
          },
        });
      }),
    );
  }
}
