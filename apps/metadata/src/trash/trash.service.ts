import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { MetadataConfig } from '@cloudstore/config';
import { type commonApi, FileNotFoundError, type filesApi, pageOf, QuotaExceededError } from '@cloudstore/contracts';
import { LOGGER, type Logger } from '@cloudstore/observability';
import type { DataSource } from 'typeorm';
import { fileAuditEvent } from '../audit/audit-entry';
import { AuditLogRepository } from '../audit/audit-log.repository';
import { ChunksRepository } from '../files/chunks.repository';
import { fileRecord } from '../files/file-record';
import { FilesRepository, type PurgedFile } from '../files/files.repository';
import { JobQueues } from '../jobs/job-queues';
import { METADATA_CONFIG } from '../metadata.tokens';
import { QuotasRepository } from '../quotas/quotas.repository';
import { isUuid } from '../uuid';

/** Expired files purged per database round trip of the sweep. */
const PURGE_BATCH = 100;

/**
 * The trash: a deleted file keeps its record and chunks for TRASH_RETENTION_SECONDS, during
 * which its owner can list, restore or purge it; then the sweep purges it. A purge deletes the
 * record and cuts the chunks loose in one transaction; garbage collection then removes them
 * from their nodes. The quota was refunded at deletion and is charged again on restore.
 */
@Injectable()
export class TrashService {
  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly files: FilesRepository,
    private readonly chunks: ChunksRepository,
    private readonly quotas: QuotasRepository,
    private readonly auditLog: AuditLogRepository,
    private readonly jobs: JobQueues,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async list(request: filesApi.ListTrashRequest): Promise<filesApi.ListFilesResponse> {
    const { limit, offset } = pageOf(request.limit, request.offset);
    if (!isUuid(request.ownerId)) return { files: [], totalCount: 0, nextCursor: '' };
    const [files, total] = await this.files.listTrash(request.ownerId, limit, offset);
    return { files: files.map((f) => fileRecord(f, [], this.config.TRASH_RETENTION_SECONDS)), totalCount: total, nextCursor: '' };
  }

  /** FILE_NOT_FOUND when the file is not in the owner's trash (any more); QUOTA_EXCEEDED when it no longer fits. */
  async restore(request: filesApi.RestoreFileRequest): Promise<filesApi.FileRecord> {
    const owner = request.owner;
    if (!owner || !isUuid(owner.userId) || !isUuid(request.fileId)) throw new FileNotFoundError();
    const restored = await this.dataSource.transaction(async (manager) => {
      // The quota row before the file's, in the order every change of the owner's files takes them.
      await this.quotas.ensure(owner.userId, owner.role, manager);
      await this.quotas.lock(owner.userId, manager);
      const restored = await this.files.restore(manager, owner.userId, request.fileId, this.config.TRASH_RETENTION_SECONDS);
      if (!restored) throw new FileNotFoundError();
      const { file, totalBytes } = restored;
      if (!(await this.quotas.chargeRestored(owner.userId, totalBytes, manager)))
        throw new QuotaExceededError(`The file (${totalBytes} bytes with its versions) does not fit in your storage quota`);
      await this.auditLog.append([this.auditEvent('file.restore', file, request.origin)], manager);
      return { file, nodes: await this.chunks.nodesOfFile(file.id, manager) };
    });
    return fileRecord(restored.file, restored.nodes);
  }

  /** Purges a file of the owner's trash now. */
  async purge(request: filesApi.PurgeFileRequest): Promise<filesApi.PurgeFileResponse> {
    if (!isUuid(request.ownerId) || !isUuid(request.fileId)) throw new FileNotFoundError();
    const purged = await this.purgeOne({ ownerId: request.ownerId, fileId: request.fileId }, request.origin);
    if (!purged) throw new FileNotFoundError();
    await this.jobs.collectOrphanChunks();
    return { purgedBytes: purged.sizeBytes };
  }

  /** Purges every file whose time in the trash is over; how many. */
  async purgeExpired(): Promise<number> {
    const retentionSeconds = this.config.TRASH_RETENTION_SECONDS;
    let purged = 0;
    for (;;) {
      const expired = await this.files.expiredInTrash(retentionSeconds, PURGE_BATCH);
      for (const id of expired) if (await this.purgeOne({ id, retentionSeconds })) purged += 1;
      if (expired.length < PURGE_BATCH) break;
    }
    if (purged > 0) this.logger.info({ count: purged }, 'purged files whose time in the trash was over');
    return purged;
  }

  private purgeOne(
    which: { ownerId: string; fileId: string } | { id: string; retentionSeconds: number },
    origin?: commonApi.RequestOrigin,
  ): Promise<PurgedFile | undefined> {
    return this.dataSource.transaction(async (manager) => {
      const file = await this.files.deleteFromTrash(manager, which);
      if (!file) return undefined;
      await this.chunks.detachFromFiles(manager, file.rowIds);
      const reason = 'ownerId' in which ? 'requested' : 'retention';
      await this.auditLog.append([this.auditEvent('file.purge', file, origin, { reason })], manager);
      return file;
    });
  }

  private auditEvent(
    operation: string,
    file: { publicId: string; ownerId: string; filename: string; sizeBytes: number },
    origin: commonApi.RequestOrigin | undefined,
    details?: Record<string, string>,
  ) {
    return fileAuditEvent({
      operation,
      status: 'success',
      userId: file.ownerId,
      fileId: file.publicId,
      filename: file.filename,
      sizeBytes: file.sizeBytes,
      origin,
      ...(details ? { details } : {}),
    });
  }
}
