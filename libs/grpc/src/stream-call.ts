import { status as GrpcStatus, type sendUnaryData } from '@grpc/grpc-js';
import { GrpcStreamCall } from '@nestjs/microservices';
import { DomainError } from '@cloudstore/contracts';
import { currentRequestId, type Logger, type Metrics } from '@cloudstore/observability';
import { domainErrorToStatus, internalErrorStatus } from './grpc-errors';

export interface StreamCallObservation {
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly grpcService: string;
  readonly grpcMethod: string;
  /** The call: when the client cancelled it, its failure is a normal event, not an error. */
  readonly call: { readonly cancelled: boolean };
}

/**
 * Finishes a client-streaming call handled with @GrpcStreamCall. Such handlers answer through
 * the callback themselves and must never reject (grpc-js would see an unhandled rejection), so
 * errors are mapped here exactly as GrpcExceptionFilter maps them for other calls, and the
 * call's metrics are recorded here too.
 */
export async function answerStreamCall<T>(
  callback: sendUnaryData<T>,
  observation: StreamCallObservation,
  work: () => Promise<T>,
): Promise<void> {
  const labels = { grpc_service: observation.grpcService, grpc_method: observation.grpcMethod };
  const stopTimer = observation.metrics.grpcHandlingSeconds.startTimer(labels);
  let code: GrpcStatus = GrpcStatus.OK;
  try {
    const response = await work();
    callback(null, response);
  } catch (error) {
    if (observation.call.cancelled) {
      // The client cancelled (or its connection dropped): nobody hears the answer; one info line.
      observation.logger.info(
        { grpcMethod: observation.grpcMethod, reason: error instanceof Error ? error.message : String(error) },
        'client cancelled the call',
      );
      code = GrpcStatus.CANCELLED;
      callback({ code, details: 'Cancelled' });
    } else if (error instanceof DomainError) {
      const status = domainErrorToStatus(error);
      code = status.code ?? GrpcStatus.UNKNOWN;
      callback(status);
    } else {
      observation.logger.error({ err: error }, 'unexpected error while handling a stream');
      code = GrpcStatus.INTERNAL;
      callback(internalErrorStatus(currentRequestId()));
    }
  } finally {
    stopTimer();
    observation.metrics.grpcHandled.inc({ ...labels, grpc_code: GrpcStatus[code] ?? String(code) });
  }
}

/**
 * Serves one client-streaming RPC of a controller that uses the generated
 * `<Service>ControllerMethods()` decorator with grpc-js's own call and callback (as
 * `@GrpcStreamCall`), which the generated interface cannot express: it types a client stream as
 * an RxJS Observable, which Nest feeds from a Subject with no backpressure (a fast client would
 * be buffered whole in memory) and never completes when the client cancels. Put it above the
 * generated decorator: it runs after it and replaces the Observable handler registered there.
 * The controller implements the generated interface without that method (`Omit<…, 'method'>`);
 * the method name is checked against the interface, so renaming the RPC breaks the build.
 */
export function ClientStreamCall<TController>(serviceName: string, method: keyof TController & string): ClassDecorator {
  return (constructor) => {
    const prototype = constructor.prototype as object;
    const descriptor = Object.getOwnPropertyDescriptor(prototype, method);
    if (!descriptor) throw new Error(`${constructor.name} has no ${method}`);
    GrpcStreamCall(serviceName, method.charAt(0).toUpperCase() + method.slice(1))(prototype, method, descriptor);
  };
}
