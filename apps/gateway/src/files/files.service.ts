import { Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import type { commonApi, filesApi } from '@cloudstore/contracts';
import { InternalClients } from '../internal-clients/internal-clients';

/** What a file looks like to REST clients. */
export interface FileView {
  file_id: string;
  filename: string;
  file_size: number;
  uploaded_at: number;
  checksum: string;
  content_type: string;
  storage_nodes?: string[];
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
  };
}

export interface QuotaView {
  total_quota_bytes: number;
  used_bytes: number;
  available_bytes: number;
  usage_percentage: number;
  unlimited: boolean;
}

/** Listing, lookup, deletion and quotas: the metadata service answers, always for the caller's own files. */
@Injectable()
export class FilesService {
  constructor(private readonly clients: InternalClients) {}

  list(caller: Caller, limit: number, offset: number, filter: string): Promise<filesApi.ListFilesResponse> {
    return this.clients.files.call('listFiles', { ownerId: caller.userId, limit, offset, filter });
  }

  get(caller: Caller, fileId: string): Promise<filesApi.FileRecord> {
    return this.clients.files.call('getFile', { ownerId: caller.userId, fileId });
  }

  async delete(caller: Caller, fileId: string, origin: commonApi.RequestOrigin): Promise<number> {
    return (await this.clients.files.call('deleteFile', { ownerId: caller.userId, fileId, origin })).freedBytes;
  }

  quota(caller: Caller): Promise<filesApi.QuotaStatus> {
    return this.clients.quotas.call('getQuota', {
      owner: { userId: caller.userId, role: caller.role, username: caller.username },
    });
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
