import { Injectable } from '@nestjs/common';
import type { auditApi, publicApi } from '@cloudstore/contracts';
import { InternalClients } from '../internal-clients/internal-clients';
import type { AdminAuditQuery, AuditEventResult, AuditPageResult } from './audit.dto';

/** A REST query as the metadata service's request; what is absent matches all. */
export function auditRequest(query: AdminAuditQuery): auditApi.ListAuditEventsRequest {
  return {
    limit: query.limit ?? 0,
    cursor: query.cursor ?? '',
    operation: query.operation ?? '',
    outcome: query.outcome ?? '',
    from: query.from ?? 0,
    to: query.to ?? 0,
    userId: query.user_id ?? '',
  };
}

/** A public gRPC request as the metadata service's request. */
export function grpcAuditRequest(
  request: publicApi.ListAuditEventsRequest | publicApi.ListAllAuditEventsRequest,
): auditApi.ListAuditEventsRequest {
  const { limit, cursor, operation, outcome, from, to } = request;
  return { limit, cursor, operation, outcome, from, to, userId: 'userId' in request ? request.userId : '' };
}

/** An event as REST clients see it: the fields it does not have are left out. */
export function auditEventView(event: auditApi.AuditEvent): AuditEventResult {
  const optional = {
    error_code: event.errorCode,
    user_id: event.userId,
    username: event.username,
    client_address: event.clientAddress,
    user_agent: event.userAgent,
    file_id: event.fileId,
    filename: event.filename,
    session_id: event.sessionId,
  };
  return {
    event_id: event.eventId,
    occurred_at: event.occurredAt,
    operation: event.operation,
    outcome: event.outcome,
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== '')),
    ...(event.fileId || event.filename ? { size_bytes: event.sizeBytes } : {}),
    details: event.details,
  };
}

export function auditPageView(page: auditApi.ListAuditEventsResponse): AuditPageResult {
  return { events: page.events.map(auditEventView), ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}) };
}

/**
 * The audit log, which the metadata service owns: it takes the user from the access token the
 * call carries, so a user's listing cannot name anyone else.
 */
@Injectable()
export class AuditService {
  constructor(private readonly clients: InternalClients) {}

  listOwn(request: auditApi.ListAuditEventsRequest): Promise<auditApi.ListAuditEventsResponse> {
    return this.clients.auditLog.call('listOwnEvents', request);
  }

  listAll(request: auditApi.ListAuditEventsRequest): Promise<auditApi.ListAuditEventsResponse> {
    return this.clients.auditLog.call('listAllEvents', request);
  }
}
