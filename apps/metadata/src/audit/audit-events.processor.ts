import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { MetadataConfig } from '@cloudstore/config';
import { type AuditEvent, QUEUES, type RunningWorker, startWorker } from '@cloudstore/jobs';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { METADATA_CONFIG } from '../metadata.tokens';
import { AuditLogRepository } from './audit-log.repository';

/** Writes the audit events other services queue (auth) into the audit log. */
@Injectable()
export class AuditEventsProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private running: RunningWorker | undefined;

  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    private readonly auditLog: AuditLogRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.running = startWorker<AuditEvent>(
      QUEUES.audit,
      this.config,
      this.config.REDIS_KEY_PREFIX,
      (job) => this.auditLog.append([job.data]),
      this.logger,
      8,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running?.close();
  }
}
