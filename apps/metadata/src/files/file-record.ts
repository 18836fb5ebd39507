import type { filesApi } from '@cloudstore/contracts';
import { toUnixSeconds } from '@cloudstore/database';
import type { FileEntity } from './file.entity';

/** A file as the FileService API answers it. */
export function fileRecord(file: FileEntity, storageNodes: string[] = []): filesApi.FileRecord {
  return {
    fileId: file.id,
    filename: file.filename,
    size: file.sizeBytes,
    sha256: file.sha256,
    uploadedAt: toUnixSeconds(file.uploadedAt),
    contentType: file.contentType,
    chunkCount: file.chunkCount,
    chunkSize: file.chunkSize,
    storageNodes,
  };
}
