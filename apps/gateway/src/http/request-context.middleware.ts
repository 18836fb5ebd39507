import { Injectable, type NestMiddleware } from '@nestjs/common';
import { currentRequestId, Metrics, REQUEST_ID_HEADER, runWithRequestId } from '@cloudstore/observability';
import type { NextFunction, Request, Response } from 'express';

/**
 * Gives every HTTP request its correlation id (the client's x-request-id or a new one), echoes
 * it in the response, and records the request's count and latency by route.
 */
@Injectable()
export class RequestContextMiddleware implements NestMiddleware {
  constructor(private readonly metrics: Metrics) {}

  use(req: Request, res: Response, next: NextFunction): void {
    runWithRequestId(req.header(REQUEST_ID_HEADER), () => {
      const requestId = currentRequestId();
      if (requestId) res.setHeader(REQUEST_ID_HEADER, requestId);
      const started = process.hrtime.bigint();
      res.once('close', () => {
        const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
        const labels = { method: req.method, route };
        this.metrics.httpRequests.inc({ ...labels, status_code: String(res.statusCode) });
        this.metrics.httpRequestSeconds.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      });
      next();
    });
  }
}
