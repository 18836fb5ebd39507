import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type commonApi, FileNotFoundError, type filesApi } from '@cloudstore/contracts';
import { toUnixSeconds } from '@cloudstore/database';
import type { DataSource } from 'typeorm';
import { fileAuditEvent } from '../audit/audit-entry';
import { AuditLogRepository } from '../audit/audit-log.repository';
import { ChunksRepository } from '../files/chunks.repository';
import { FileEntity } from '../files/file.entity';
import { fileRecord } from '../files/file-record';
import { FilesRepository } from '../files/files.repository';
import { FilesService } from '../files/files.service';
import { QuotasRepository } from '../quotas/quotas.repository';
import { FileVersionsRepository } from './file-versions.repository';

function fileVersion(row: FileEntity, current: FileEntity): filesApi.FileVersion {
  return {
    versionId: String(row.version),
    version: row.version,
    size: row.sizeBytes,
    sha256: row.sha256,
    uploadedAt: toUnixSeconds(row.uploadedAt),
    current: row.id === current.id,
    filename: row.filename,
    contentType: row.contentType,
  };
}

/**
 * File versions: an upload naming the id of a live file of the owner's makes its content the
 * file's next version, and keeps the one before (VersionKeeper: VERSIONS_KEPT of them);
 * restoring a version makes its content current again, as the next version (the current one is
 * kept as a version). Versions count on the quota; they go to the trash, come back and are purged
 * with their file. Only the owner sees them.
 */
@Injectable()
export class FileVersionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly versions: FileVersionsRepository,
    private readonly files: FilesService,
    private readonly fileRows: FilesRepository,
    private readonly chunks: ChunksRepository,
    private readonly quotas: QuotasRepository,
    private readonly auditLog: AuditLogRepository,
  ) {}

  /** The file's content now and its earlier versions, newest first. */
  async list(owner: filesApi.Owner, fileId: string): Promise<filesApi.ListVersionsResponse> {
    const current = await this.files.requireOwned(owner.userId, fileId);
    return { versions: (await this.versions.list(current.id)).map((row) => fileVersion(row, current)) };
  }

  /** A version's content becomes the file's again, as its next version. */
  async restore(owner: filesApi.Owner, request: filesApi.RestoreVersionRequest): Promise<filesApi.FileRecord> {
    const { id } = await this.files.requireOwned(owner.userId, request.fileId);
    const restored = await this.dataSource.transaction(async (manager) => {
      // The quota row before the file's, as a commit and a delete take them: none deadlocks, and
      // a delete waiting here reads the versions as this leaves them.
      await this.quotas.lock(owner.userId, manager);
      const current = await this.versions.lockLive(manager, id);
      const version = current && (await this.fileRows.findVersion(current, request.versionId));
      if (!current || !version) throw new FileNotFoundError('The file has no such version');
      if (version.id === current.id) return current;
      await this.versions.archiveCurrent(manager, current.id, randomUUID());
      await this.versions.restoreInto(manager, current.id, version);
      const file = await manager.findOneByOrFail(FileEntity, { id: current.id });
      await this.auditLog.append([this.auditEvent(owner, file, request.origin, version.version)], manager);
      return file;
    });
    // Restoring a version keeps as many versions as before: nothing to drop, nothing to charge.
    return fileRecord(restored, await this.chunks.nodesOfFile(restored.id));
  }

  private auditEvent(owner: filesApi.Owner, file: FileEntity, origin: commonApi.RequestOrigin | undefined, from: number) {
    return fileAuditEvent({
      operation: 'file.version_restore',
      status: 'success',
      userId: owner.userId,
      username: owner.username,
      fileId: file.publicId,
      filename: file.filename,
      sizeBytes: file.sizeBytes,
      origin,
      details: { version: file.version, restoredFrom: from },
    });
  }
}
