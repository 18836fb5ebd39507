import { Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import type { commonApi, filesApi, publicApi } from '@cloudstore/contracts';
import { InternalClients } from '../internal-clients/internal-clients';

/** The caller as the owner of the files a metadata call is about. */
export function owner(caller: Caller): filesApi.Owner {
  return { userId: caller.userId, role: caller.role, username: caller.username };
}

/** What a file looks like to REST clients. */
export interface FileView {
  file_id: string;
  filename: string;
  file_size: number;
  uploaded_at: number;
  checksum: string;
  content_type: string;
  storage_nodes?: string[];
  /** Files in the trash: when deleted, and when they will be purged (Unix seconds). */
  deleted_at?: number;
  purge_at?: number;
  /** Another user's file shared with the caller: the owner's username. */
  shared_by?: string;
  /** The version of the file's content: 1 for its first. */
  version: number;
}

/** A version of a file, as REST clients see it. */
export interface VersionView {
  version_id: string;
  version: number;
  file_size: number;
  checksum: string;
  uploaded_at: number;
  filename: string;
  content_type: string;
  current: boolean;
}

export function versionView(version: filesApi.FileVersion): VersionView {
  return {
    version_id: version.versionId,
    version: version.version,
    file_size: version.size,
    checksum: version.sha256,
    uploaded_at: version.uploadedAt,
    filename: version.filename,
    content_type: version.contentType,
    current: version.current,
  };
}

export function fileView(file: filesApi.FileRecord, withNodes = false): FileView {
  return {
    file_id: file.fileId,
    filename: file.filename,
    file_size: file.size,
    uploaded_at: file.uploadedAt,
    checksum: file.sha256,
    content_type: file.contentType,
    ...(withNodes ? { storage_nodes: file.storageNodes } : {}),
    ...(file.deletedAt > 0 ? { deleted_at: file.deletedAt, purge_at: file.purgeAt } : {}),
    ...(file.sharedBy ? { shared_by: file.sharedBy } : {}),
    version: file.version,
  };
}

/** A file as the public gRPC API describes it. */
export function fileInfo(file: filesApi.FileRecord): publicApi.FileInfo {
  return {
    fileId: file.fileId,
    filename: file.filename,
    fileSize: file.size,
    uploadedAt: file.uploadedAt,
    checksum: file.sha256,
    deletedAt: file.deletedAt,
    purgeAt: file.purgeAt,
    sharedBy: file.sharedBy,
    version: file.version,
  };
}

export interface QuotaView {
  total_quota_bytes: number;
  used_bytes: number;
  available_bytes: number;
  usage_percentage: number;
  unlimited: boolean;
}

/**
 * Listing, lookup, deletion, the trash and quotas: the metadata service answers, for the caller's
 * own files (and lookups of files shared with the caller).
 */
@Injectable()
export class FilesService {
  constructor(private readonly clients: InternalClients) {}

  list(
    caller: Caller,
    page: { limit: number; offset: number; filter: string; after: string },
  ): Promise<filesApi.ListFilesResponse> {
    return this.clients.files.call('listFiles', { ownerId: caller.userId, ...page });
  }

  get(caller: Caller, fileId: string): Promise<filesApi.FileRecord> {
    return this.clients.files.call('getFile', { ownerId: caller.userId, fileId });
  }

  async delete(caller: Caller, fileId: string, origin: commonApi.RequestOrigin): Promise<number> {
    return (await this.clients.files.call('deleteFile', { ownerId: caller.userId, fileId, origin })).freedBytes;
  }

  listTrash(caller: Caller, limit: number, offset: number): Promise<filesApi.ListFilesResponse> {
    return this.clients.files.call('listTrash', { ownerId: caller.userId, limit, offset });
  }

  restore(caller: Caller, fileId: string, origin: commonApi.RequestOrigin): Promise<filesApi.FileRecord> {
    return this.clients.files.call('restoreFile', { owner: owner(caller), fileId, origin });
  }

  async purge(caller: Caller, fileId: string, origin: commonApi.RequestOrigin): Promise<number> {
    return (await this.clients.files.call('purgeFile', { ownerId: caller.userId, fileId, origin })).purgedBytes;
  }

  /** The caller's own file's content now and its earlier versions, newest first. */
  async versions(fileId: string): Promise<filesApi.FileVersion[]> {
    return (await this.clients.files.call('listVersions', { fileId })).versions;
  }

  /** A version's content becomes the file's again, as its next version. */
  restoreVersion(fileId: string, versionId: string, origin: commonApi.RequestOrigin): Promise<filesApi.FileRecord> {
    return this.clients.files.call('restoreVersion', { fileId, versionId, origin });
  }

  quota(caller: Caller): Promise<filesApi.QuotaStatus> {
    return this.clients.quotas.call('getQuota', { owner: owner(caller) });
  }
}

export function quotaView(status: filesApi.QuotaStatus): QuotaView {
  return {
    total_quota_bytes: status.totalQuotaBytes,
    used_bytes: status.usedBytes,
    available_bytes: status.availableBytes,
    usage_percentage: status.usagePercentage,
    unlimited: status.unlimited,
  };
}
