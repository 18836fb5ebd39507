import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { isStorableText, toUnixSeconds } from '@cloudstore/database';
import { type filesApi, InvalidArgumentError, pageOf } from '@cloudstore/contracts';
import type { DataSource } from 'typeorm';
import { fileAuditEvent } from '../audit/audit-entry';
import { AuditLogRepository } from '../audit/audit-log.repository';
import { fileRecord } from '../files/file-record';
import { FilesService } from '../files/files.service';
import { isUuid } from '../uuid';
import { SHARE_PERMISSIONS, type SharePermission } from './file-share.entity';
import { FileSharesRepository, type ShareWithFile } from './file-shares.repository';

function isPermission(value: string): value is SharePermission {
  return (SHARE_PERMISSIONS as readonly string[]).includes(value);
}

/** A share as listed: to its grantee (`received`), the file says whose it is. */
function fileShare(share: ShareWithFile, received: boolean): filesApi.FileShare {
  return {
    file: { ...fileRecord(share.file), sharedBy: received ? share.ownerUsername : '' },
    granteeUsername: share.granteeUsername,
    ownerUsername: share.ownerUsername,
    permission: share.permission,
    createdAt: toUnixSeconds(share.createdAt),
  };
}

/**
 * Sharing: an owner gives another user read access to a live file; the grantee then lists, gets
 * and downloads it (FilesService.readable) but cannot change, delete or share it. Shared bytes
 * count on the owner's quota only. Granting and ending a share are audited with the grantee as
 * the subject (by id only: a username in the details would outlive the grantee's erasure).
 */
@Injectable()
export class FileSharesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly files: FilesService,
    private readonly shares: FileSharesRepository,
    private readonly auditLog: AuditLogRepository,
  ) {}

  /** The grantee was found by the gateway (auth knows users); granting again changes the permission. */
  async share(owner: filesApi.Owner, request: filesApi.ShareFileRequest): Promise<filesApi.FileShare> {
    const permission = request.permission || 'read';
    if (!isPermission(permission)) throw new InvalidArgumentError(`permission must be one of: ${SHARE_PERMISSIONS.join(', ')}`);
    if (!isUuid(request.granteeId) || !request.granteeUsername) throw new InvalidArgumentError('The grantee is missing');
    if (request.granteeId === owner.userId) throw new InvalidArgumentError('You cannot share a file with yourself');
    const file = await this.files.requireOwned(owner.userId, request.fileId);
    const createdAt = await this.dataSource.transaction(async (manager) => {
      const sharedAt = await this.shares.upsert(manager, {
        fileId: file.id,
        granteeId: request.granteeId,
        granteeUsername: request.granteeUsername,
        ownerUsername: owner.username,
        permission,
      });
      await this.auditLog.append(
        [
          fileAuditEvent({
            operation: 'file.share',
            status: 'success',
            userId: owner.userId,
            username: owner.username,
            subjectUserId: request.granteeId,
            fileId: file.publicId,
            filename: file.filename,
            origin: request.origin,
            details: { permission },
          }),
        ],
        manager,
      );
      return sharedAt;
    });
    return {
      file: fileRecord(file),
      granteeUsername: request.granteeUsername,
      ownerUsername: owner.username,
      permission,
      createdAt: toUnixSeconds(createdAt),
    };
  }

  /** Takes effect at once: the grantee's next call finds nothing. Ending a share that is not there changes nothing. */
  async unshare(owner: filesApi.Owner, request: filesApi.UnshareFileRequest): Promise<void> {
    const file = await this.files.requireOwnedOrTrashed(owner.userId, request.fileId);
    // No share names a user so (nor could PostgreSQL compare it).
    if (!isStorableText(request.granteeUsername)) return;
    await this.dataSource.transaction(async (manager) => {
      const granteeId = await this.shares.delete(manager, file.id, request.granteeUsername);
      if (granteeId === undefined) return;
      await this.auditLog.append(
        [
          fileAuditEvent({
            operation: 'file.unshare',
            status: 'success',
            userId: owner.userId,
            username: owner.username,
            subjectUserId: granteeId,
            fileId: file.publicId,
            filename: file.filename,
            origin: request.origin,
          }),
        ],
        manager,
      );
    });
  }

  /** Files shared with the user (`received`), or the shares the user granted (`granted`, optionally of one file). */
  async list(userId: string, request: filesApi.ListSharesRequest): Promise<filesApi.ListSharesResponse> {
    const page = pageOf(request.limit, request.offset);
    if (request.direction !== 'granted' && request.direction !== 'received')
      throw new InvalidArgumentError('direction must be granted or received');
    if (!isUuid(userId)) return { shares: [], totalCount: 0 };
    const [shares, total] =
      request.direction === 'received'
        ? await this.shares.received(userId, page)
        : await this.shares.granted(
            userId,
            request.fileId ? (await this.files.requireOwnedOrTrashed(userId, request.fileId)).id : undefined,
            page,
          );
    return { shares: shares.map((share) => fileShare(share, request.direction === 'received')), totalCount: total };
  }
}
