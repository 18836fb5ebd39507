import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { MetadataConfig } from '@cloudstore/config';
import { type AuditEvent, createJobsConnection, jobsPrefix, QUEUES } from '@cloudstore/jobs';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { METADATA_CONFIG } from '../metadata.tokens';
import { AuditLogRepository } from './audit-log.repository';

/** Writes the audit events other services queue (auth) into the audit log. */
@Injectable()
export class AuditEventsProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker: Worker<AuditEvent> | undefined;
  private connection: Redis | undefined;

  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    private readonly auditLog: AuditLogRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.connection = createJobsConnection(this.config.REDIS_URL);
    this.worker = new Worker<AuditEvent>(QUEUES.audit, async (job) => this.auditLog.append([job.data]), {
      connection: this.connection,
      prefix: jobsPrefix(this.config.REDIS_KEY_PREFIX),
      concurrency: 8,
    });
    this.worker.on('failed', (job, error) =>
      this.logger.warn({ err: error, jobId: job?.id }, 'could not write an audit event; it will be retried'),
    );
    this.worker.on('error', (error) => this.logger.warn({ err: error }, 'audit worker error'));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
    this.connection?.disconnect();
  }
}
