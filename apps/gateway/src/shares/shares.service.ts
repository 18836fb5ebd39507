import { Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import { type commonApi, DomainError, type filesApi, InvalidArgumentError, MAX_PAGE_SIZE } from '@cloudstore/contracts';
import { fileView, type FileView } from '../files/files.service';
import { InternalClients } from '../internal-clients/internal-clients';

/** A share as the owner sees it. */
export interface ShareView {
  file_id: string;
  /** The grantee. */
  username: string;
  permission: string;
  created_at: number;
}

/** A file shared with the caller, as the grantee sees it. */
export type SharedFileView = FileView & { shared_by: string; permission: string; shared_at: number };

export function shareView(share: filesApi.FileShare): ShareView {
  return {
    file_id: share.file?.fileId ?? '',
    username: share.granteeUsername,
    permission: share.permission,
    created_at: share.createdAt,
  };
}

export function sharedFileView(share: filesApi.FileShare): SharedFileView {
  return {
    ...fileView(share.file as filesApi.FileRecord),
    shared_by: share.ownerUsername,
    permission: share.permission,
    shared_at: share.createdAt,
  };
}

/**
 * Sharing, for REST and gRPC alike: auth finds the grantee by username, the metadata service
 * checks the caller owns the file and records the share. An unknown username is
 * INVALID_ARGUMENT, as a mistyped one would be.
 */
@Injectable()
export class SharesService {
  constructor(private readonly clients: InternalClients) {}

  async share(
    caller: Caller,
    share: { fileId: string; username: string; permission: string },
    origin: commonApi.RequestOrigin,
  ): Promise<filesApi.FileShare> {
    if (share.permission !== '' && share.permission !== 'read')
      throw new InvalidArgumentError('permission must be "read": only the owner changes or deletes a file');
    const grantee = await this.findUser(share.username);
    if (grantee.userId === caller.userId) throw new InvalidArgumentError('You cannot share a file with yourself');
    return this.clients.files.call('shareFile', {
      fileId: share.fileId,
      granteeId: grantee.userId,
      granteeUsername: grantee.username,
      permission: 'read',
      origin,
    });
  }

  async unshare(fileId: string, username: string, origin: commonApi.RequestOrigin): Promise<void> {
    await this.clients.files.call('unshareFile', { fileId, granteeUsername: username.trim(), origin });
  }

  // Each call is for the signed-in caller: the access token goes with it (metadata and auth read the user from it).

  /** The shares of one of the caller's files (a file has few: one page of the most). */
  async ofFile(fileId: string): Promise<filesApi.FileShare[]> {
    const page = await this.clients.files.call('listShares', { direction: 'granted', fileId, limit: MAX_PAGE_SIZE, offset: 0 });
    return page.shares;
  }

  /** Shares the caller granted, of every file. */
  granted(limit: number, offset: number): Promise<filesApi.ListSharesResponse> {
    return this.clients.files.call('listShares', { direction: 'granted', fileId: '', limit, offset });
  }

  sharedWithMe(limit: number, offset: number): Promise<filesApi.ListSharesResponse> {
    return this.clients.files.call('listShares', { direction: 'received', fileId: '', limit, offset });
  }

  private async findUser(username: string): Promise<{ userId: string; username: string }> {
    try {
      return await this.clients.auth.call('findUser', { username });
    } catch (error) {
      if (error instanceof DomainError && error.code === 'NOT_FOUND')
        throw new InvalidArgumentError('No account has that username');
      throw error;
    }
  }
}
