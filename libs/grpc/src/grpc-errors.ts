import { Metadata, status as GrpcStatus, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import {
  type DomainError,
  domainError,
  ERROR_CODE_METADATA_KEY,
  InternalErrorError,
  InvalidArgumentError,
  isErrorCode,
  RETRY_AFTER_METADATA_KEY,
  ServiceUnavailableError,
} from '@cloudstore/contracts';

/** The gRPC status (code, message, trailing metadata) a domain error is sent as. */
export function domainErrorToStatus(error: DomainError): Partial<StatusObject> {
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, error.code);
  if (error.retryAfterSeconds !== undefined) {
    metadata.set(RETRY_AFTER_METADATA_KEY, String(error.retryAfterSeconds));
  }
  return { code: error.grpcStatus, details: error.message, metadata };
}

/** An unexpected failure: the caller learns only a correlation id, never the cause. */
export function internalErrorStatus(requestId: string | undefined): Partial<StatusObject> {
  return domainErrorToStatus(new InternalErrorError(`Internal error${requestId ? ` (request id ${requestId})` : ''}`));
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number' && 'metadata' in error;
}

/** How grpc-js words the status of a message over the receiver's limit (sent before any handler runs). */
const MESSAGE_TOO_LARGE = /larger than max/;

/**
 * Turns the failure of a call to another cloudstore service back into the domain error it
 * carried, so that it crosses any number of hops unchanged. Transport failures become
 * SERVICE_UNAVAILABLE; a request over the service's receive limit (a caller's oversized field
 * passed on) INVALID_ARGUMENT; anything else is rethrown as is.
 */
export function fromGrpcError(error: unknown, target: string): Error {
  if (!isServiceError(error)) return error instanceof Error ? error : new Error(String(error));
  const code = error.metadata?.get(ERROR_CODE_METADATA_KEY)[0];
  if (isErrorCode(code)) {
    const retryAfter = Number(error.metadata.get(RETRY_AFTER_METADATA_KEY)[0]);
    return domainError(code, error.details, Number.isFinite(retryAfter) ? retryAfter : undefined);
  }
  if (error.code === GrpcStatus.UNAVAILABLE || error.code === GrpcStatus.DEADLINE_EXCEEDED) {
    return new ServiceUnavailableError(`${target} is unavailable, try again later`);
  }
  if (error.code === GrpcStatus.RESOURCE_EXHAUSTED && MESSAGE_TOO_LARGE.test(error.details)) {
    return new InvalidArgumentError('The request is larger than the service takes');
  }
  return error;
}
