import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Caller } from '@cloudstore/access-tokens';
import { type filesApi, InvalidArgumentError, PermissionDeniedError } from '@cloudstore/contracts';
import type { AuditEvent } from '@cloudstore/jobs';
import { LOGGER, type Logger } from '@cloudstore/observability';
import type { DataSource } from 'typeorm';
import { fileAuditEvent } from '../audit/audit-entry';
import { AuditLogRepository } from '../audit/audit-log.repository';
import { type EraseUserJob, JobQueues } from '../jobs/job-queues';
import { isUuid } from '../uuid';
import { type ErasedUserData, UserErasureRepository } from './user-erasure.repository';

/**
 * GDPR erasure of what the metadata service holds of a user, in one transaction: the user's key
 * (crypto-shredding: the data keys it wrapped, and so every copy of the user's chunks anywhere,
 * cannot be opened again), the files and the trash (their rows held the data keys too), open
 * uploads and the quota; the user's audit events get a pseudonym. Garbage collection then removes
 * the chunks from every node, and a minute later the erasure runs once more, for what calls under
 * way at the time wrote (an upload's commit, an audit event still queued). Idempotent.
 */
@Injectable()
export class UserErasureService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly erasure: UserErasureRepository,
    private readonly auditLog: AuditLogRepository,
    private readonly jobs: JobQueues,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The caller's own data, or (an admin's token) the data of `request.userId`. */
  async erase(request: filesApi.EraseUserDataRequest, caller: Caller): Promise<filesApi.EraseUserDataResponse> {
    const userId = request.userId || caller.userId;
    if (!isUuid(userId)) throw new InvalidArgumentError('user_id must be a UUID');
    const byAdmin = userId !== caller.userId;
    if (byAdmin && caller.role !== 'admin') throw new PermissionDeniedError('Only admins may erase another account');
    const pseudonym = randomUUID();
    const username = byAdmin ? request.username : caller.username;
    const erased = await this.eraseNow({ userId, pseudonym, username }, (data) =>
      byAdmin
        ? fileAuditEvent({
            operation: 'admin.user_erase',
            status: 'success',
            userId: caller.userId,
            username: caller.username,
            subjectUserId: pseudonym,
            origin: request.origin,
            details: erasureDetails(data),
          })
        : // The user's own act, under the pseudonym and without the client's address, which would name them again.
          fileAuditEvent({ operation: 'account.erase', status: 'success', userId: pseudonym, details: erasureDetails(data) }),
    );
    await this.jobs.collectOrphanChunks();
    await this.jobs.eraseUserAgain({ userId, pseudonym });
    this.logger.info({ pseudonym, byAdmin, ...erasureDetails(erased) }, 'erased a user');
    return {
      userId,
      pseudonym,
      keyDestroyed: erased.keyDestroyed,
      filesErased: erased.liveFiles + erased.trashedFiles,
    };
  }

  /** The erasure's second pass (the garbage-collection job): anything that landed since goes too. */
  async eraseAgain(job: EraseUserJob): Promise<ErasedUserData> {
    const erased = await this.eraseNow(job);
    if (erased.liveFiles + erased.trashedFiles + erased.openUploads > 0) await this.jobs.collectOrphanChunks();
    return erased;
  }

  private eraseNow(
    user: { userId: string; pseudonym: string; username?: string },
    event?: (erased: ErasedUserData) => AuditEvent,
  ): Promise<ErasedUserData> {
    return this.dataSource.transaction(async (manager) => {
      const erased = await this.erasure.eraseUser(manager, user.userId);
      await this.auditLog.pseudonymiseUser(
        { id: user.userId, ...(user.username ? { username: user.username } : {}) },
        user.pseudonym,
        manager,
      );
      if (event) await this.auditLog.append([event(erased)], manager);
      return erased;
    });
  }
}

function erasureDetails(erased: ErasedUserData): Record<string, number | boolean> {
  return {
    files: erased.liveFiles,
    trashed: erased.trashedFiles,
    uploads: erased.openUploads,
    keyDestroyed: erased.keyDestroyed,
  };
}
