import type { filesApi } from '@cloudstore/contracts';
import { toUnixSeconds } from '@cloudstore/database';
import type { FileFields } from './files.repository';

/** A file as the FileService API answers it; a file in the trash also says when it will be purged. */
export function fileRecord(file: FileFields, storageNodes: string[] = [], trashRetentionSeconds = 0): filesApi.FileRecord {
  const deletedAt = toUnixSeconds(file.deletedAt);
  return {
    fileId: file.publicId,
    filename: file.filename,
    size: file.sizeBytes,
    sha256: file.sha256,
    uploadedAt: toUnixSeconds(file.uploadedAt),
    contentType: file.contentType,
    chunkCount: file.chunkCount,
    chunkSize: file.chunkSize,
    storageNodes,
    deletedAt,
    purgeAt: deletedAt === 0 ? 0 : deletedAt + trashRetentionSeconds,
    sharedBy: '',
    version: file.version,
  };
}
