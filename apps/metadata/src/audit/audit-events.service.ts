import { Injectable } from '@nestjs/common';
import { type auditApi, InvalidArgumentError, pageOf } from '@cloudstore/contracts';
import { isUuid } from '../uuid';
import { keysetCursor } from '../files/list-cursor';
import { type AuditEventFilter, AuditEventsRepository, type StoredAuditEvent } from './audit-events.repository';

/** Audit log rows are keyed by a bigint id. */
const auditCursor = keysetCursor('cursor', (id) => /^\d{1,19}$/.test(id));

const OPERATION = /^[a-z0-9_.]{1,128}$/;

/**
 * The details a reader is shown. The log may hold more than readers should see: a failed login's
 * keyed hash of the name typed in (which may be a mistyped password) stays for investigations in
 * the database only. A key not listed here is not shown until someone decides it is safe.
 */
const SHOWN_DETAILS: ReadonlySet<string> = new Set([
  'access',
  'active',
  'address',
  'attempts',
  'current',
  'expiresAt',
  'flow',
  'hasPassword',
  'keyId',
  'linkId',
  'nodeId',
  'operator',
  'otpMethod',
  'permission',
  'quotaBytes',
  'range',
  'reason',
  'restoredFrom',
  'retiring',
  'role',
  'sessionsEnded',
  'targetUserId',
  'unchanged',
  'version',
]);

function operationFilter(operation: string): AuditEventFilter['operation'] {
  if (operation === '') return undefined;
  const prefix = operation.endsWith('*');
  const name = prefix ? operation.slice(0, -1) : operation;
  if (prefix && name === '') return undefined;
  if (!OPERATION.test(name)) {
    throw new InvalidArgumentError(
      'operation must be an operation such as file.upload, or a prefix of one ending in *, such as file.*',
    );
  }
  return prefix ? { prefix: name } : { exact: name };
}

function statusFilter(outcome: string): AuditEventFilter['status'] {
  if (outcome === '') return undefined;
  if (outcome !== 'success' && outcome !== 'failure') throw new InvalidArgumentError('outcome must be success or failure');
  return outcome;
}

function seconds(name: string, value: number): number | undefined {
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError(`${name} must be Unix seconds`);
  return value === 0 ? undefined : value;
}

/** The filter a request asks for, every field checked: a bad one is INVALID_ARGUMENT naming it. */
function filterOf(request: auditApi.ListAuditEventsRequest, userId: string | undefined): AuditEventFilter {
  const fromSeconds = seconds('from', request.from);
  const toSeconds = seconds('to', request.to);
  if (fromSeconds !== undefined && toSeconds !== undefined && fromSeconds > toSeconds) {
    throw new InvalidArgumentError('from must not be after to');
  }
  const operation = operationFilter(request.operation);
  const status = statusFilter(request.outcome);
  return {
    ...(userId !== undefined ? { userId } : {}),
    ...(operation ? { operation } : {}),
    ...(status ? { status } : {}),
    ...(fromSeconds !== undefined ? { fromSeconds } : {}),
    ...(toSeconds !== undefined ? { toSeconds } : {}),
  };
}

function eventOf(event: StoredAuditEvent): auditApi.AuditEvent {
  const details: Record<string, string> = {};
  for (const [key, value] of Object.entries(event.details)) if (SHOWN_DETAILS.has(key)) details[key] = String(value);
  // Kept in its own column so that an erasure can pseudonymise it; shown where it always was.
  if (event.subjectUserId) details['targetUserId'] = event.subjectUserId;
  const sessionId = event.details['sessionId'];
  return {
    eventId: event.eventId,
    occurredAt: Math.floor(event.occurredAt.getTime() / 1000),
    operation: event.operation,
    outcome: event.status,
    errorCode: event.errorCode ?? '',
    userId: event.userId ?? '',
    username: event.username ?? '',
    clientAddress: event.clientAddress ?? '',
    userAgent: event.userAgent ?? '',
    fileId: event.fileId ?? '',
    filename: event.filename ?? '',
    sizeBytes: event.sizeBytes ?? 0,
    sessionId: typeof sessionId === 'string' ? sessionId : '',
    details,
  };
}

/** Pages of the audit log for readers: a user's own events, or everyone's for admins. */
@Injectable()
export class AuditEventsService {
  constructor(private readonly events: AuditEventsRepository) {}

  /** The events of `userId` (the verified caller); the request's user_id is not read. */
  listOwn(request: auditApi.ListAuditEventsRequest, userId: string): Promise<auditApi.ListAuditEventsResponse> {
    return this.list(request, userId);
  }

  /** Everyone's events, or those of the request's user_id: for admins. */
  async listAll(request: auditApi.ListAuditEventsRequest): Promise<auditApi.ListAuditEventsResponse> {
    if (request.userId !== '' && !isUuid(request.userId)) throw new InvalidArgumentError('user_id must be a UUID');
    return this.list(request, request.userId === '' ? undefined : request.userId.toLowerCase());
  }

  private async list(
    request: auditApi.ListAuditEventsRequest,
    userId: string | undefined,
  ): Promise<auditApi.ListAuditEventsResponse> {
    if (request.limit < 0) throw new InvalidArgumentError('limit must not be negative');
    const { limit } = pageOf(request.limit, 0);
    const filter = filterOf(request, userId);
    const after = request.cursor ? auditCursor.decode(request.cursor) : undefined;
    // One more than the page: whether a next page exists.
    const events = await this.events.page(filter, limit + 1, after);
    const page = events.slice(0, limit);
    const last = page.at(-1);
    return {
      events: page.map(eventOf),
      nextCursor: events.length > limit && last ? auditCursor.encode(last.position) : '',
    };
  }
}
