import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { AuditEvent } from '@cloudstore/jobs';
import type { DataSource, EntityManager } from 'typeorm';
import { AuditLogEntity } from './audit-log.entity';

/** Appends to the audit log; an event id already written is skipped, so deliveries are idempotent. */
@Injectable()
export class AuditLogRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async append(events: readonly AuditEvent[], manager: EntityManager = this.dataSource.manager): Promise<void> {
    if (events.length === 0) return;
    await manager
      .createQueryBuilder()
      .insert()
      .into(AuditLogEntity)
      .values(
        events.map((e) => ({
          eventId: e.eventId,
          occurredAt: new Date(e.occurredAt),
          operation: e.operation,
          status: e.status,
          errorCode: e.errorCode ?? null,
          userId: e.userId ?? null,
          username: e.username ?? null,
          clientAddress: e.clientAddress ?? null,
          userAgent: e.userAgent ?? null,
          fileId: e.fileId ?? null,
          filename: e.filename ?? null,
          sizeBytes: e.sizeBytes ?? null,
          details: e.details ?? {},
        })),
      )
      .orIgnore()
      .execute();
  }
}
