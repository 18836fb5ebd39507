import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Metrics } from '@cloudstore/observability';
import type { Response } from 'express';
import { ReadinessService } from './readiness.service';

/** Probes for orchestrators and Prometheus; they need no token. */
@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly metrics: Metrics,
  ) {}

  /** Liveness: the process is up and serving HTTP. */
  @Get('healthz')
  @Header('cache-control', 'no-store')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: 200 when the cluster can serve, 503 naming what failed. */
  @Get('readyz')
  @Header('cache-control', 'no-store')
  async readyz(@Res() res: Response): Promise<void> {
    const readiness = await this.readiness.check();
    res.status(readiness.status === 'ready' ? 200 : 503).json(readiness);
  }

  @Get('metrics')
  async metricsText(@Res() res: Response): Promise<void> {
    const { contentType, body } = await this.metrics.render();
    res.status(200).type(contentType).send(body);
  }
}
