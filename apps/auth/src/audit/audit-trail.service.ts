import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { AuditEvent, AuditStatus } from '@cloudstore/jobs';
import type { ErrorCode } from '@cloudstore/contracts';
import type { Queue } from 'bullmq';
import { AUDIT_QUEUE } from '../auth.tokens';
import { AuthSecrets } from '../secrets/auth-secrets';

/** Where a request came from, as the gateway saw it. */
export interface Origin {
  readonly clientAddress?: string;
  readonly userAgent?: string;
}

/** The account an audit event is about. */
export interface AuditedUser {
  readonly id: string;
  readonly username: string;
}

export interface AuditEntry {
  readonly operation: string;
  readonly status: AuditStatus;
  readonly errorCode?: string;
  readonly userId?: string;
  readonly username?: string;
  /** The account an admin's act was about. */
  readonly subjectUserId?: string;
  readonly origin?: Origin;
  readonly details?: Record<string, string | number | boolean>;
}

/**
 * Sends auth events to the audit log, which the metadata service owns: through a durable
 * BullMQ queue, so that an event survives a metadata outage and is written exactly once.
 */
@Injectable()
export class AuditTrail implements OnApplicationShutdown {
  constructor(
    @Inject(AUDIT_QUEUE) private readonly queue: Queue<AuditEvent>,
    private readonly secrets: AuthSecrets,
  ) {}

  /**
   * What the audit log keeps of a name someone tried to sign in with that matches no account: a
   * keyed hash (HMAC under a key derived from the master key) of it, case-folded. Attempts with the
   * same name can be told apart and counted, but the log holds no typed-in text (a mistyped
   * password in the username field), and without the key nobody can test names against it.
   */
  attemptedName(usernameOrEmail: string): string {
    return `hmac-sha256:${this.secrets.auditNames.digest(usernameOrEmail.trim().toLowerCase()).toString('base64url')}`;
  }

  async record(entry: AuditEntry): Promise<void> {
    const event: AuditEvent = {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      operation: entry.operation,
      status: entry.status,
      ...(entry.errorCode ? { errorCode: entry.errorCode } : {}),
      ...(entry.userId ? { userId: entry.userId } : {}),
      ...(entry.username ? { username: entry.username } : {}),
      ...(entry.subjectUserId ? { subjectUserId: entry.subjectUserId } : {}),
      ...(entry.origin?.clientAddress ? { clientAddress: entry.origin.clientAddress } : {}),
      ...(entry.origin?.userAgent ? { userAgent: entry.origin.userAgent.slice(0, 512) } : {}),
      ...(entry.details ? { details: entry.details } : {}),
    };
    await this.queue.add(event.operation, event, { jobId: event.eventId });
  }

  /** A user's operation that succeeded. */
  success(operation: string, user: AuditedUser, origin: Origin, details?: AuditEntry['details']): Promise<void> {
    return this.record({
      operation,
      status: 'success',
      userId: user.id,
      username: user.username,
      origin,
      ...(details ? { details } : {}),
    });
  }

  /** A user's operation that failed with `errorCode`. */
  failure(
    operation: string,
    errorCode: ErrorCode,
    user: AuditedUser,
    origin: Origin,
    details?: AuditEntry['details'],
  ): Promise<void> {
    return this.record({
      operation,
      status: 'failure',
      errorCode,
      userId: user.id,
      username: user.username,
      origin,
      ...(details ? { details } : {}),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
