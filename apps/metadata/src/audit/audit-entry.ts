import { randomUUID } from 'node:crypto';
import type { commonApi } from '@cloudstore/contracts';
import type { AuditEvent, AuditStatus } from '@cloudstore/jobs';

/** An audit event of a file operation, as the metadata service writes it in the same transaction. */
export function fileAuditEvent(entry: {
  operation: string;
  status: AuditStatus;
  userId: string;
  username?: string;
  subjectUserId?: string;
  errorCode?: string;
  fileId?: string;
  filename?: string;
  sizeBytes?: number;
  origin?: commonApi.RequestOrigin;
  details?: Record<string, string | number | boolean>;
}): AuditEvent {
  return {
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    operation: entry.operation,
    status: entry.status,
    userId: entry.userId,
    ...(entry.username ? { username: entry.username } : {}),
    ...(entry.subjectUserId ? { subjectUserId: entry.subjectUserId } : {}),
    ...(entry.errorCode ? { errorCode: entry.errorCode } : {}),
    ...(entry.fileId ? { fileId: entry.fileId } : {}),
    ...(entry.filename ? { filename: entry.filename } : {}),
    ...(entry.sizeBytes !== undefined ? { sizeBytes: entry.sizeBytes } : {}),
    ...(entry.origin?.clientAddress ? { clientAddress: entry.origin.clientAddress } : {}),
    ...(entry.origin?.userAgent ? { userAgent: entry.origin.userAgent.slice(0, 512) } : {}),
    ...(entry.details ? { details: entry.details } : {}),
  };
}

/**
 * An admin's change (a quota, a drain, an erasure), with the admin of the verified access token
 * as its actor, and the account it was about as its subject.
 */
export function adminAuditEvent(
  admin: { readonly userId: string; readonly username: string },
  operation: string,
  details: Record<string, string | number | boolean>,
  subjectUserId?: string,
): AuditEvent {
  return fileAuditEvent({
    operation,
    status: 'success',
    userId: admin.userId,
    username: admin.username,
    ...(subjectUserId ? { subjectUserId } : {}),
    details,
  });
}

/** A storage node's own event (it joined the cluster): no user; the node is named in the details. */
export function nodeAuditEvent(
  operation: string,
  nodeId: string,
  details: Record<string, string | number | boolean> = {},
): AuditEvent {
  return {
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    operation,
    status: 'success',
    details: { nodeId, ...details },
  };
}
