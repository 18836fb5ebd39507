import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { AuditStatus } from '@cloudstore/jobs';
import type { DataSource } from 'typeorm';
import type { ListPosition } from '../files/list-cursor';
import type { AuditLogEntity } from './audit-log.entity';

/** Which events a page of the audit log holds; every field left out matches all. */
export interface AuditEventFilter {
  readonly userId?: string;
  /** One operation, or every operation that starts with a prefix. */
  readonly operation?: { readonly exact: string } | { readonly prefix: string };
  readonly status?: AuditStatus;
  /** Unix seconds: at or after `fromSeconds`, before `toSeconds`. */
  readonly fromSeconds?: number;
  readonly toSeconds?: number;
}

/** An event as the audit log holds it, with its place in the newest-first order. */
export type StoredAuditEvent = Omit<AuditLogEntity, 'id'> & {
  readonly position: ListPosition;
};

interface AuditEventRow {
  row_id: string;
  position: string;
  event_id: string;
  occurred_at: Date;
  operation: string;
  status: AuditStatus;
  error_code: string | null;
  user_id: string | null;
  username: string | null;
  client_address: string | null;
  user_agent: string | null;
  subject_user_id: string | null;
  file_id: string | null;
  filename: string | null;
  size_bytes: string | null;
  details: Record<string, string | number | boolean>;
}

function storedEvent(row: AuditEventRow): StoredAuditEvent {
  return {
    eventId: row.event_id,
    occurredAt: row.occurred_at,
    operation: row.operation,
    status: row.status,
    errorCode: row.error_code,
    userId: row.user_id,
    username: row.username,
    clientAddress: row.client_address,
    userAgent: row.user_agent,
    subjectUserId: row.subject_user_id,
    fileId: row.file_id,
    filename: row.filename,
    sizeBytes: row.size_bytes === null ? null : Number(row.size_bytes),
    details: row.details,
    position: { atMicros: row.position, id: row.row_id },
  };
}

/** Reads the audit log: keyset pages, newest first, over the (user, time) and time indexes. */
@Injectable()
export class AuditEventsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Up to `limit` events matching `filter`, newest first (ties by id), after `after` when given. */
  async page(filter: AuditEventFilter, limit: number, after?: ListPosition): Promise<StoredAuditEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    if (filter.userId !== undefined) where.push(`"user_id" = ${param(filter.userId)}::uuid`);
    if (filter.operation && 'exact' in filter.operation) where.push(`"operation" = ${param(filter.operation.exact)}`);
    if (filter.operation && 'prefix' in filter.operation)
      where.push(`starts_with("operation", ${param(filter.operation.prefix)})`);
    if (filter.status !== undefined) where.push(`"status" = ${param(filter.status)}`);
    if (filter.fromSeconds !== undefined)
      where.push(`"occurred_at" >= 'epoch'::timestamptz + ${param(filter.fromSeconds)}::bigint * interval '1 second'`);
    if (filter.toSeconds !== undefined)
      where.push(`"occurred_at" < 'epoch'::timestamptz + ${param(filter.toSeconds)}::bigint * interval '1 second'`);
    if (after) {
      where.push(
        `("occurred_at", "id") < ('epoch'::timestamptz + ${param(after.atMicros)}::bigint * interval '1 microsecond', ${param(after.id)}::bigint)`,
      );
    }
    const rows = await this.dataSource.manager.query<AuditEventRow[]>(
      // Not aliased "id": ORDER BY would then sort by the text, where "9" comes after "15".
      `SELECT "id"::text AS "row_id", (extract(epoch FROM "occurred_at") * 1000000)::bigint::text AS "position",
         "event_id", "occurred_at", "operation", "status", "error_code", "user_id", "username", "client_address",
         "user_agent", "subject_user_id", "file_id", "filename", "size_bytes", "details"
       FROM "metadata"."audit_log" ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY "occurred_at" DESC, "id" DESC LIMIT ${param(limit)}`,
      params,
    );
    return rows.map(storedEvent);
  }
}
