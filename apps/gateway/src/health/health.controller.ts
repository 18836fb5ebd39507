import { Controller, Get, Header, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { bearerToken } from '@cloudstore/access-tokens';
import { Metrics, readinessHttpStatus } from '@cloudstore/observability';
import type { Request, Response } from 'express';
import { RequestAuthenticator } from '../auth/request-authenticator';
import { ReadinessService } from './readiness.service';

/** Probes for orchestrators and Prometheus; they need no token. */
@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly metrics: Metrics,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  /** Liveness: the process is up and serving HTTP. */
  @Get('healthz')
  @Header('cache-control', 'no-store')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness: 200 when the cluster can serve, 503 when not, as `{status}`. What failed, and
   * every node's address, is for an admin's bearer token only: a probe needs no more, and the
   * topology is no one else's business. Any other token gets the public answer, not an error.
   */
  @Get('readyz')
  @Header('cache-control', 'no-store')
  async readyz(@Req() req: Request, @Res() res: Response): Promise<void> {
    const [readiness, admin] = await Promise.all([this.readiness.check(), this.isAdmin(req)]);
    res.status(readinessHttpStatus(readiness)).json(admin ? readiness : { status: readiness.status });
  }

  private async isAdmin(req: Request): Promise<boolean> {
    const token = bearerToken(req.header('authorization'));
    if (!token) return false;
    try {
      return (await this.authenticator.authenticate(token)).role === 'admin';
    } catch {
      return false;
    }
  }

  @Get('metrics')
  async metricsText(@Res() res: Response): Promise<void> {
    const { contentType, body } = await this.metrics.render();
    res.status(200).type(contentType).send(body);
  }
}
