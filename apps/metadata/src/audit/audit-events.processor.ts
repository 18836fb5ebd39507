import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { MetadataConfig } from '@cloudstore/config';
import { type AuditEvent, QUEUES, type RunningWorker, startWorker } from '@cloudstore/jobs';
import { LOGGER, type Logger, Metrics } from '@cloudstore/observability';
import { Counter } from 'prom-client';
import { METADATA_CONFIG } from '../metadata.tokens';
import { AuditLogRepository } from './audit-log.repository';

/**
 * Writes the audit events other services queue (auth) into the audit log. The log makes every
 * event storable, so a write fails only when the database does; an event that failed all its
 * attempts is logged at error and counted in `cloudstore_audit_events_lost_total`, for alerting.
 */
@Injectable()
export class AuditEventsProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private running: RunningWorker | undefined;
  private readonly lost: Counter;

  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    private readonly auditLog: AuditLogRepository,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: Metrics,
  ) {
    this.lost = new Counter({
      name: 'cloudstore_audit_events_lost_total',
      help: 'Audit events that failed every attempt to be written (the event is in the log line).',
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    this.running = startWorker<AuditEvent>(
      QUEUES.audit,
      this.config,
      this.config.REDIS_KEY_PREFIX,
      (job) => this.auditLog.append([job.data]),
      this.logger,
      8,
      (job) => {
        this.lost.inc();
        this.logger.error({ event: job.data }, 'audit event lost: it could not be written');
      },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running?.close();
  }
}
