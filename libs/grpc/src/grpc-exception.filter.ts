import { type ArgumentsHost, Catch, type RpcExceptionFilter } from '@nestjs/common';
import { DomainError, publicError } from '@cloudstore/contracts';
import { currentRequestId, type Logger } from '@cloudstore/observability';
import { type Observable, of, throwError } from 'rxjs';
import { isStreamCall } from './grpc-context.interceptor';
import { domainErrorToStatus, internalErrorStatus } from './grpc-errors';

/**
 * The one place where errors become gRPC statuses: domain errors keep their code and message
 * (at the `publicEdge`, only contract codes: see publicError); anything else is logged with its
 * stack and answered as INTERNAL_ERROR with the request id.
 */
@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter<unknown> {
  constructor(
    private readonly logger: Logger,
    private readonly options: { publicEdge?: boolean } = {},
  ) {}

  catch(error: unknown, host: ArgumentsHost): Observable<unknown> {
    const status = this.statusOf(error);
    // A @GrpcStreamCall handler answers through its callback; an error before it ran (a guard's)
    // must too, or the client would wait for its deadline.
    if (isStreamCall(host)) {
      host.getArgByIndex<(status: object) => void>(1)(status);
      return of(undefined);
    }
    return throwError(() => status);
  }

  private statusOf(error: unknown): object {
    if (error instanceof DomainError) return domainErrorToStatus(this.options.publicEdge ? publicError(error) : error);
    this.logger.error({ err: error }, 'unexpected error while handling an RPC');
    return internalErrorStatus(currentRequestId());
  }
}
