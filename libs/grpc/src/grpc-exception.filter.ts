import { type ArgumentsHost, Catch, type RpcExceptionFilter } from '@nestjs/common';
import { DomainError, publicError } from '@cloudstore/contracts';
import { currentRequestId, type Logger } from '@cloudstore/observability';
import { type Observable, throwError } from 'rxjs';
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

  catch(error: unknown, _host: ArgumentsHost): Observable<never> {
    if (error instanceof DomainError)
      return throwError(() => domainErrorToStatus(this.options.publicEdge ? publicError(error) : error));
    const requestId = currentRequestId();
    this.logger.error({ err: error }, 'unexpected error while handling an RPC');
    return throwError(() => internalErrorStatus(requestId));
  }
}
