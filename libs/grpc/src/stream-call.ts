import { status as GrpcStatus, type sendUnaryData } from '@grpc/grpc-js';
import { DomainError } from '@cloudstore/contracts';
import { currentRequestId, type Logger, type Metrics } from '@cloudstore/observability';
import { domainErrorToStatus, internalErrorStatus } from './grpc-errors';

export interface StreamCallObservation {
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly grpcService: string;
  readonly grpcMethod: string;
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
    if (error instanceof DomainError) {
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
