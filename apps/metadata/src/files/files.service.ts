import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { NodeHealth } from '@cloudstore/chunk-transfer';
import type { MetadataConfig } from '@cloudstore/config';
import {
  type commonApi,
  FileNotFoundError,
  type filesApi,
  InvalidArgumentError,
  pageOf,
  PermissionDeniedError,
} from '@cloudstore/contracts';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { fileAuditEvent } from '../audit/audit-entry';
import { AuditLogRepository } from '../audit/audit-log.repository';
import { JobQueues } from '../jobs/job-queues';
import { METADATA_CONFIG } from '../metadata.tokens';
import { NodeRegistryRepository } from '../node-registry/node-registry.repository';
import { QuotasRepository } from '../quotas/quotas.repository';
import { ChunksRepository, type ChunkWithReplicas } from './chunks.repository';
import type { FileEntity } from './file.entity';
import { fileRecord } from './file-record';
import { listCursor } from './list-cursor';
import { isUuid } from '../uuid';
import { FilesRepository } from './files.repository';
import type { DataSource } from 'typeorm';
import { UserKeysService } from '../user-keys/user-keys.service';

/** Committed files: lookups, listing, soft delete, and where to read their bytes. Always per owner. */
@Injectable()
export class FilesService {
  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    private readonly files: FilesRepository,
    private readonly chunks: ChunksRepository,
    private readonly quotas: QuotasRepository,
    private readonly auditLog: AuditLogRepository,
    private readonly jobs: JobQueues,
    private readonly nodes: NodeRegistryRepository,
    private readonly health: NodeHealth,
    private readonly userKeys: UserKeysService,
    @Inject(LOGGER) private readonly logger: Logger,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * A live file the user may read: their own, or one shared with them (then with its owner's
   * username). Any other is FILE_NOT_FOUND, whether it exists or not.
   */
  async readable(userId: string, fileId: string): Promise<{ file: FileEntity; sharedBy?: string }> {
    const found = isUuid(fileId) && isUuid(userId) ? await this.files.findReadable(userId, fileId) : null;
    if (!found) throw new FileNotFoundError();
    return found;
  }

  /**
   * For a write the owner alone may make: the owner's live file; a file only shared with the
   * caller is PERMISSION_DENIED (they know it exists), any other FILE_NOT_FOUND.
   */
  async requireOwned(userId: string, fileId: string): Promise<FileEntity> {
    const { file, sharedBy } = await this.readable(userId, fileId);
    if (sharedBy !== undefined) throw new PermissionDeniedError('Only the owner of a shared file may do this');
    return file;
  }

  /** As requireOwned, but also a file in the trash: its shares and links can be seen and ended there too. */
  async requireOwnedOrTrashed(userId: string, fileId: string): Promise<FileEntity> {
    const file = isUuid(fileId) && isUuid(userId) ? await this.files.findOwned(userId, fileId) : null;
    if (file) return file;
    await this.requireOwned(userId, fileId);
    throw new FileNotFoundError();
  }

  async get(userId: string, fileId: string): Promise<filesApi.FileRecord> {
    const { file, sharedBy } = await this.readable(userId, fileId);
    return { ...fileRecord(file, await this.chunks.nodesOfFile(file.id)), sharedBy: sharedBy ?? '' };
  }

  async list(request: filesApi.ListFilesRequest): Promise<filesApi.ListFilesResponse> {
    const { limit, offset } = pageOf(request.limit, request.offset);
    const after = request.after ? listCursor.decode(request.after) : undefined;
    if (after && offset > 0) throw new InvalidArgumentError('A page starts after a cursor or at an offset, not both');
    if (!isUuid(request.ownerId)) return { files: [], totalCount: 0, nextCursor: '' };
    // One more than the page: whether a next page exists.
    const { files, total } = await this.files.list(request.ownerId, {
      limit: limit + 1,
      offset,
      filter: request.filter.trim().slice(0, 255),
      after,
    });
    const page = files.slice(0, limit);
    const last = page.at(-1);
    return {
      files: page.map((f) => fileRecord(f)),
      totalCount: total ?? (await this.quotas.fileCount(request.ownerId)),
      nextCursor: files.length > limit && last ? listCursor.encode(last.position) : '',
    };
  }

  async delete(request: filesApi.DeleteFileRequest): Promise<filesApi.DeleteFileResponse> {
    if (!isUuid(request.fileId) || !isUuid(request.ownerId)) throw new FileNotFoundError();
    const deleted = await this.dataSource.transaction(async (manager) => {
      // The quota row first, as every change of the owner's files and versions takes it: a new
      // version committing now is in before the delete reads the file's versions, and none deadlocks.
      await this.quotas.lock(request.ownerId, manager);
      const file = await this.files.softDelete(manager, request.ownerId, request.fileId);
      if (!file) return undefined;
      await this.quotas.refund(request.ownerId, file.totalBytes, manager);
      await this.auditLog.append(
        [
          fileAuditEvent({
            operation: 'file.delete',
            status: 'success',
            userId: request.ownerId,
            fileId: file.publicId,
            filename: file.filename,
            sizeBytes: file.sizeBytes,
            origin: request.origin,
          }),
        ],
        manager,
      );
      return file;
    });
    if (!deleted) {
      await this.requireOwned(request.ownerId, request.fileId);
      throw new FileNotFoundError();
    }
    return { freedBytes: deleted.totalBytes };
  }

  async downloadPlan(request: filesApi.GetDownloadPlanRequest): Promise<filesApi.DownloadPlan> {
    const userId = request.owner?.userId ?? '';
    if (request.versionId) {
      const version = await this.ownedVersion(userId, request.fileId, request.versionId);
      return this.planOf(version, request, {
        userId,
        username: request.owner?.username,
        details: { version: String(version.version) },
      });
    }
    const { file, sharedBy } = await this.readable(userId, request.fileId);
    // A grantee's download names the owner as its subject.
    const reader =
      sharedBy === undefined
        ? { userId, username: request.owner?.username }
        : { userId, username: request.owner?.username, subjectUserId: file.ownerId, details: { access: 'share' } };
    return this.planOf(file, request, reader);
  }

  /**
   * Where to read a range of a file the caller may read, and how to open it; the download is
   * audited as `reader`'s (with `details` said of how the file was reached).
   */
  async planOf(
    file: FileEntity,
    range: { rangeStart: number; rangeEnd: number; origin?: commonApi.RequestOrigin },
    reader: { userId: string; username?: string; subjectUserId?: string; details?: Record<string, string> },
  ): Promise<filesApi.DownloadPlan> {
    const dataKey = await this.userKeys.ofFile(file);
    const end = range.rangeEnd < 0 ? file.sizeBytes - 1 : Math.min(range.rangeEnd, file.sizeBytes - 1);
    if (range.rangeStart < 0 || (file.sizeBytes > 0 && range.rangeStart > end))
      throw new InvalidArgumentError('The byte range is outside the file');
    const chunks =
      file.sizeBytes === 0
        ? []
        : await this.chunks.inRange(file.id, file.chunkSize, range.rangeStart, end, this.config.NODE_DOWN_AFTER_SECONDS);
    await this.auditLog.append([
      fileAuditEvent({
        operation: 'file.download',
        status: 'success',
        userId: reader.userId,
        username: reader.username,
        subjectUserId: reader.subjectUserId,
        fileId: file.publicId,
        // Another account's filename would outlive its erasure in this reader's row.
        ...(reader.subjectUserId ? {} : { filename: file.filename }),
        sizeBytes: file.sizeBytes === 0 ? 0 : end - range.rangeStart + 1,
        origin: range.origin,
        details: {
          ...(range.rangeStart > 0 || end < file.sizeBytes - 1 ? { range: `${range.rangeStart}-${end}` } : {}),
          ...reader.details,
        },
      }),
    ]);
    return {
      file: fileRecord(file),
      ...dataKey,
      chunkOverhead: file.chunkOverhead,
      chunks: chunks.map((c) => plannedChunk(c, file.chunkSize)),
    };
  }

  async locateChunk(request: filesApi.LocateChunkRequest): Promise<filesApi.PlannedChunk> {
    const userId = request.owner?.userId ?? '';
    const file = request.versionId
      ? await this.ownedVersion(userId, request.fileId, request.versionId)
      : (await this.readable(userId, request.fileId)).file;
    return this.chunkOf(file, request.index);
  }

  /** A version of the owner's live file, by its id or number (the current content too); FILE_NOT_FOUND otherwise. */
  private async ownedVersion(userId: string, fileId: string, versionId: string): Promise<FileEntity> {
    const version = await this.files.findVersion(await this.requireOwned(userId, fileId), versionId);
    if (!version) throw new FileNotFoundError('The file has no such version');
    return version;
  }

  /** One chunk of a file with its replicas as they are now; FILE_NOT_FOUND for a chunk the file has not. */
  async chunkOf(file: FileEntity, index: number): Promise<filesApi.PlannedChunk> {
    const offset = index * file.chunkSize;
    if (index < 0 || offset >= file.sizeBytes) throw new FileNotFoundError();
    const [chunk] = await this.chunks.inRange(file.id, file.chunkSize, offset, offset, this.config.NODE_DOWN_AFTER_SECONDS);
    if (!chunk) throw new FileNotFoundError();
    return plannedChunk(chunk, file.chunkSize);
  }

  /** A replica that failed a read is no longer served first, and its repair is queued at once. */
  async reportReplicaProblem(request: filesApi.ReportReplicaProblemRequest): Promise<void> {
    this.logger.warn(
      { chunkId: request.chunkId, nodeId: request.nodeId, problem: request.problem, detail: request.detail },
      'replica problem reported',
    );
    if (request.problem === 'unavailable') {
      const node = await this.nodes.find(request.nodeId);
      if (node) this.health.recordFailure({ nodeId: node.nodeId, address: node.address });
      return;
    }
    if (request.problem !== 'missing' && request.problem !== 'corrupt') return;
    if (await this.chunks.markReplica(request.chunkId, request.nodeId, request.problem))
      await this.jobs.replicate(request.chunkId);
  }
}

function plannedChunk(chunk: ChunkWithReplicas, chunkSize: number): filesApi.PlannedChunk {
  return {
    chunkId: chunk.id,
    index: chunk.index,
    size: chunk.sizeBytes,
    sha256: chunk.sha256,
    offset: chunk.index * chunkSize,
    replicas: chunk.replicas.map((r) => ({ nodeId: r.nodeId, address: r.address })),
  };
}
