import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { storableText } from '@cloudstore/database';
import type { AuditEvent } from '@cloudstore/jobs';
import type { DataSource, EntityManager } from 'typeorm';
import { isUuid } from '../uuid';
import { AuditAppends } from './audit-appends';
import { AuditLogEntity } from './audit-log.entity';

/** Longest text kept per field, in code points: an event carries what a caller sent, of any size. */
const MAX_TEXT = { short: 128, userAgent: 512, long: 1024 };

function text(value: string | undefined, maxCodePoints: number): string | null {
  return value === undefined ? null : storableText(value, maxCodePoints);
}

function uuidOrNull(value: string | undefined): string | null {
  return value !== undefined && isUuid(value) ? value : null;
}

/**
 * The row of an event, made so that PostgreSQL always takes it whatever the event holds (U+0000,
 * a name cut inside an emoji, a huge value): an event that cannot be written would be lost for good.
 */
function auditRow(e: AuditEvent): Omit<AuditLogEntity, 'id'> {
  const details: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(e.details ?? {})) {
    details[storableText(key, MAX_TEXT.short)] = typeof value === 'string' ? storableText(value, MAX_TEXT.long) : value;
  }
  return {
    eventId: e.eventId,
    occurredAt: new Date(e.occurredAt),
    operation: storableText(e.operation, MAX_TEXT.short),
    status: e.status,
    errorCode: text(e.errorCode, MAX_TEXT.short),
    userId: uuidOrNull(e.userId),
    username: text(e.username, MAX_TEXT.short),
    clientAddress: text(e.clientAddress, MAX_TEXT.short),
    userAgent: text(e.userAgent, MAX_TEXT.userAgent),
    subjectUserId: uuidOrNull(e.subjectUserId),
    fileId: uuidOrNull(e.fileId),
    filename: text(e.filename, MAX_TEXT.long),
    sizeBytes: Number.isSafeInteger(e.sizeBytes) ? (e.sizeBytes ?? null) : null,
    details,
  };
}

/** Appends to the audit log, each event made storable; an event id already written is skipped, so deliveries are idempotent. */
@Injectable()
export class AuditLogRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly appends: AuditAppends,
  ) {}

  /** Inserts the rows unsealed (no lock, no chain work here), and has the sealer chain them soon after. */
  async append(events: readonly AuditEvent[], manager: EntityManager = this.dataSource.manager): Promise<void> {
    if (events.length === 0) return;
    await manager.createQueryBuilder().insert().into(AuditLogEntity).values(events.map(auditRow)).orIgnore().execute();
    this.appends.notify();
  }

  /**
   * GDPR erasure of a user's rows, each marked erased with `pseudonym`. Where the user acted, the
   * user id becomes the pseudonym and the other personal fields are cleared; rows that name the
   * user only by name (a refused registration of it) are treated alike; where an admin acted on
   * the user, the subject is cleared. The chain covers those fields only through their sealed
   * digests, so it still verifies. How many rows.
   */
  async pseudonymiseUser(
    user: { readonly id: string; readonly username?: string },
    pseudonym: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<number> {
    const actorErased = `user_id = $2, username = NULL, client_address = NULL, user_agent = NULL, filename = NULL, erased_as = $2`;
    const [, asActor] = await manager.query<[unknown, number]>(
      `UPDATE metadata.audit_log
       SET ${actorErased}, subject_user_id = CASE WHEN subject_user_id = $1 THEN NULL ELSE subject_user_id END
       WHERE user_id = $1`,
      [user.id, pseudonym],
    );
    const [, asSubject] = await manager.query<[unknown, number]>(
      `UPDATE metadata.audit_log SET subject_user_id = NULL, erased_as = COALESCE(erased_as, $2) WHERE subject_user_id = $1`,
      [user.id, pseudonym],
    );
    const [, byName] = user.username
      ? await manager.query<[unknown, number]>(
          `UPDATE metadata.audit_log SET ${actorErased} WHERE user_id IS NULL AND lower(username) = lower($1)`,
          [user.username, pseudonym],
        )
      : [undefined, 0];
    return asActor + asSubject + byName;
  }
}
