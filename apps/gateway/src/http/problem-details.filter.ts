import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { boundErrorText, DomainError, type ErrorCode, errorForHttpStatus, publicError } from '@cloudstore/contracts';
import { currentRequestId, type Logger } from '@cloudstore/observability';
import type { Request, Response } from 'express';

/** RFC 9457 problem details, with the contract's error code and the request id. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance: string;
  request_id?: string;
}

function titleOf(code: ErrorCode): string {
  return code
    .toLowerCase()
    .split('_')
    .map((word) => word[0]?.toUpperCase() + word.slice(1))
    .join(' ');
}

/**
 * A URL as logs may hold it: no query (it may carry a link's password), and no download link's
 * secret (whoever reads the log could download the file).
 */
export function loggableUrl(url: string): string {
  return (url.split('?')[0] ?? '').replace(/^\/v1\/links\/[^/]+/i, '/v1/links/<secret>');
}

/**
 * The one place where errors become HTTP responses: domain errors keep their code, status and
 * message; framework errors (unknown route, malformed JSON) get the catalogue's code for their
 * HTTP status (errorForHttpStatus);
 * anything else is logged and answered as INTERNAL_ERROR with the request id only.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const requestId = currentRequestId();
    let code: ErrorCode;
    let status: number;
    let detail: string;
    let retryAfter: number | undefined;
    // Not `req.destroyed`: a request is destroyed once its body has been read.
    if (res.destroyed || !res.socket || res.socket.destroyed) {
      // The client went away (a dropped upload or download): nobody is left to answer.
      this.logger.info(
        { method: req.method, url: loggableUrl(req.originalUrl), reason: error instanceof Error ? error.message : String(error) },
        'client disconnected',
      );
      return;
    }
    const known =
      error instanceof DomainError
        ? publicError(error)
        : error instanceof HttpException && error.getStatus() < 500
          ? errorForHttpStatus(error.getStatus(), error.message)
          : undefined;
    if (known) {
      code = known.code;
      status = known.httpStatus;
      detail = known.message;
      retryAfter = known.retryAfterSeconds;
    } else {
      this.logger.error(
        { err: error, method: req.method, url: loggableUrl(req.originalUrl) },
        'unexpected error while handling a request',
      );
      code = 'INTERNAL_ERROR';
      status = 500;
      detail = `Internal error${requestId ? ` (request id ${requestId})` : ''}`;
    }
    if (res.headersSent) {
      // The body already started (a download that failed midway): all that is left is to cut it.
      res.destroy();
      return;
    }
    const problem: ProblemDetails = {
      type: `https://cloudstore.dev/errors/${code.toLowerCase().replace(/_/g, '-')}`,
      title: titleOf(code),
      status,
      detail,
      code,
      // The path is the client's: echoed, but never at any length.
      instance: boundErrorText(req.originalUrl),
      ...(requestId ? { request_id: requestId } : {}),
    };
    if (retryAfter !== undefined) res.setHeader('retry-after', String(Math.max(1, Math.ceil(retryAfter))));
    // A body left unread (a refused upload) would be read to its end to reuse the connection: it is closed instead.
    if (!req.complete) res.setHeader('connection', 'close');
    res.status(status).type('application/problem+json').send(JSON.stringify(problem));
  }
}
