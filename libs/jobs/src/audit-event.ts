/** Whether the audited operation succeeded. */
export type AuditStatus = 'success' | 'failure';

/**
 * One entry of the audit trail. Never holds a password, code or token: only who, what, from
 * where, and how it ended.
 */
export interface AuditEvent {
  /** Unique per event, so that a retried delivery is written once. */
  readonly eventId: string;
  /** ISO 8601. */
  readonly occurredAt: string;
  /** e.g. `auth.register`, `auth.login`, `file.upload`. */
  readonly operation: string;
  readonly status: AuditStatus;
  readonly errorCode?: string;
  readonly userId?: string;
  readonly username?: string;
  readonly clientAddress?: string;
  readonly userAgent?: string;
  /** The account an admin's act was about. */
  readonly subjectUserId?: string;
  readonly fileId?: string;
  readonly filename?: string;
  readonly sizeBytes?: number;
  /** Anything else worth keeping, never secrets. */
  readonly details?: Record<string, string | number | boolean>;
}
