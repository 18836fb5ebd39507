import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { MetadataConfig } from '@cloudstore/config';
import {
  ChecksumMismatchError,
  DomainError,
  type filesApi,
  InvalidArgumentError,
  QuotaExceededError,
  StorageUnavailableError,
} from '@cloudstore/contracts';
import type { AuditEvent } from '@cloudstore/jobs';
import { LOGGER, type Logger } from '@cloudstore/observability';
import type { EntityManager } from 'typeorm';
import { fileAuditEvent } from '../audit/audit-entry';
import { AuditLogRepository } from '../audit/audit-log.repository';
import { ChunksRepository } from '../files/chunks.repository';
import type { FileEntity } from '../files/file.entity';
import { fileRecord } from '../files/file-record';
import { filenameForAudit, sanitizeFilename } from '../files/filename';
import { fileIdInUseError, FilesRepository } from '../files/files.repository';
import { type FileContent, VersionKeeper } from '../versions/version-keeper';
import { JobQueues } from '../jobs/job-queues';
import { METADATA_CONFIG } from '../metadata.tokens';
import { NodeRegistryRepository } from '../node-registry/node-registry.repository';
import { effectiveReplicationFactor, rankNodes, writeQuorum } from '../placement/rendezvous-placement';
import { QuotasRepository } from '../quotas/quotas.repository';
import { isUuid } from '../uuid';
import { storedContentType } from './content-type';
import type { UploadEntity } from './upload.entity';
import { UploadReservationsService, uploadNotFound } from './upload-reservations.service';
import { UploadsRepository } from './uploads.repository';
import { UserKeysService } from '../user-keys/user-keys.service';
import type { DataSource } from 'typeorm';

const SHA256 = /^[0-9a-f]{64}$/;

/** How a commit's data key is stored: under the owner's key, or (a gateway that predates user keys) the master key. */
function committedDataKey(
  request: filesApi.CommitUploadRequest,
): Pick<FileEntity, 'wrappedDataKey' | 'masterKeyId' | 'wrappedByUserKey'> {
  if (request.wrappedDataKey.length === 0) return { wrappedDataKey: null, masterKeyId: null, wrappedByUserKey: false };
  const wrappedDataKey = Buffer.from(request.wrappedDataKey);
  return request.wrappedByUserKey
    ? { wrappedDataKey, masterKeyId: null, wrappedByUserKey: true }
    : { wrappedDataKey, masterKeyId: request.masterKeyId, wrappedByUserKey: false };
}
/** More than any authenticated cipher's nonce and tag: a bigger value is a mistake. */
const MAX_CHUNK_OVERHEAD = 1024;

/**
 * The life of an upload: open, chunks reserved in the quota and recorded before they are
 * written, then one transaction that makes the file visible and charges it, or an abort that
 * releases the reservation and hands the chunks to garbage collection.
 */
@Injectable()
export class UploadsService {
  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    private readonly uploads: UploadsRepository,
    private readonly files: FilesRepository,
    private readonly chunks: ChunksRepository,
    private readonly quotas: QuotasRepository,
    private readonly nodes: NodeRegistryRepository,
    private readonly auditLog: AuditLogRepository,
    private readonly queues: JobQueues,
    private readonly reservations: UploadReservationsService,
    private readonly userKeys: UserKeysService,
    private readonly versions: VersionKeeper,
    @Inject(LOGGER) private readonly logger: Logger,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async create(request: filesApi.CreateUploadRequest): Promise<filesApi.CreateUploadResponse> {
    const owner = request.owner;
    if (!owner?.userId) throw new InvalidArgumentError('owner is required');
    const audit = (status: 'failure', errorCode: string): AuditEvent =>
      fileAuditEvent({
        operation: 'file.upload',
        status,
        errorCode,
        userId: owner.userId,
        username: owner.username,
        filename: filenameForAudit(request.filename),
        origin: request.origin,
      });
    let filename: string;
    try {
      filename = sanitizeFilename(request.filename);
    } catch (error) {
      await this.auditLog.append([audit('failure', 'INVALID_FILENAME')]);
      throw error;
    }
    if (request.declaredSize < -1) throw new InvalidArgumentError('declared_size must be -1 (unknown) or a byte count');
    if (request.resumable && request.declaredSize < 0) throw new InvalidArgumentError('A resumable upload needs its size');
    if (request.expectedSha256 && !SHA256.test(request.expectedSha256))
      throw new InvalidArgumentError('sha256 must be 64 lowercase hex digits');
    if (request.chunkOverhead < 0 || request.chunkOverhead > MAX_CHUNK_OVERHEAD)
      throw new InvalidArgumentError(`chunk_overhead must be from 0 to ${MAX_CHUNK_OVERHEAD}`);
    // The file's id as its owner will know it, and the row's own id: one and the same unless
    // chosen, as a chosen id is unique only among the owner's files.
    const fileId = request.fileId || request.newFileId || randomUUID();
    if (!isUuid(fileId)) throw new InvalidArgumentError('file_id must be a UUID');
    const fileRowId = request.fileId ? randomUUID() : fileId;
    const uploadId = randomUUID();
    const expiresAt = new Date(Date.now() + this.config.UPLOAD_EXPIRY_SECONDS * 1000);
    const userKey = await this.userKeys.forUpload(owner.userId, request.newUserKey);
    const outcome = await this.dataSource.transaction(async (manager) => {
      // Open uploads first: a commit turns its upload into a file in one transaction, so in this
      // order no commit can pass between the two reads unseen. A live file of the id gets a new
      // version; one in the trash keeps its id.
      let versionOf: string | null = null;
      if (request.fileId) {
        if (await this.uploads.fileIdInUse(owner.userId, fileId, manager)) throw fileIdInUseError();
        const existing = await this.files.findOwned(owner.userId, fileId, manager);
        if (existing?.deletedAt) throw fileIdInUseError();
        versionOf = existing?.id ?? null;
      }
      await this.quotas.ensure(owner.userId, owner.role, manager);
      const reserve = Math.max(0, request.declaredSize);
      if (reserve > 0 && !(await this.quotas.reserve(owner.userId, reserve, manager))) return 'quota' as const;
      await this.uploads.insert(manager, {
        id: uploadId,
        ownerId: owner.userId,
        fileId: versionOf ?? fileRowId,
        versionOf,
        publicFileId: fileId,
        filename,
        contentType: storedContentType(request.contentType),
        declaredSize: request.declaredSize,
        reservedBytes: reserve,
        chunkOverhead: request.chunkOverhead,
        resumable: request.resumable,
        expiresAt: request.resumable ? expiresAt : null,
        expectedSha256: request.expectedSha256 || null,
      });
      return 'ok' as const;
    });
    if (outcome === 'quota') {
      await this.auditLog.append([{ ...audit('failure', 'QUOTA_EXCEEDED'), sizeBytes: request.declaredSize }]);
      throw new QuotaExceededError(`The file (${request.declaredSize} bytes) does not fit in your storage quota`);
    }
    const expires = request.resumable ? Math.floor(expiresAt.getTime() / 1000) : 0;
    if (!request.firstChunk) return { uploadId, fileId, filename, firstChunk: undefined, userKey, expiresAt: expires };
    try {
      const firstChunk = await this.prepareChunk({
        uploadId,
        ownerId: owner.userId,
        index: 0,
        ...request.firstChunk,
        stored: [],
      });
      return { uploadId, fileId, filename, firstChunk, userKey, expiresAt: expires };
    } catch (error) {
      // The gateway has no upload to abort: its call failed.
      await this.abort({
        uploadId,
        ownerId: owner.userId,
        errorCode: error instanceof DomainError ? error.code : 'INTERNAL_ERROR',
        reason: error instanceof Error ? error.message : String(error),
        origin: request.origin,
      });
      throw error;
    }
  }

  async prepareChunk(request: filesApi.PrepareChunkRequest): Promise<filesApi.PrepareChunkResponse> {
    if (!Number.isSafeInteger(request.size) || request.size < 0 || !SHA256.test(request.sha256) || request.index < 0) {
      throw new InvalidArgumentError('a chunk needs an index, a size and a SHA-256');
    }
    const liveNodes = (await this.nodes.listWithLiveness(this.config.NODE_DOWN_AFTER_SECONDS)).filter(
      (n) => n.alive && n.state === 'active',
    );
    const chunkId = randomUUID().replace(/-/g, '');
    const candidates = rankNodes(chunkId, request.size, liveNodes);
    const replicationFactor = effectiveReplicationFactor(this.config.REPLICATION_FACTOR, candidates.length);
    if (replicationFactor === 0) throw new StorageUnavailableError('No storage node is available to store the chunk');
    const receivedWith = (upload: UploadEntity) => upload.receivedBytes + request.size - upload.chunkOverhead;
    await this.reservations.withRoom(
      request.uploadId,
      request.ownerId,
      (_manager, upload) => {
        if (request.size <= upload.chunkOverhead && upload.chunkOverhead > 0)
          throw new InvalidArgumentError(`An encrypted chunk is more than its ${upload.chunkOverhead} bytes of overhead`);
        const received = receivedWith(upload);
        if (upload.declaredSize >= 0 && received > upload.declaredSize) {
          throw new InvalidArgumentError(`More bytes arrived than the ${upload.declaredSize} announced`);
        }
        return received;
      },
      async (manager, upload) => {
        await this.recordStored(manager, upload, request.stored);
        await this.chunks.insertPending(manager, {
          id: chunkId,
          uploadId: upload.id,
          index: request.index,
          sizeBytes: request.size,
          sha256: request.sha256,
          plannedNodeIds: candidates.map((n) => n.nodeId),
        });
        await this.uploads.update(manager, upload.id, { receivedBytes: receivedWith(upload) });
      },
    );
    return {
      chunkId,
      candidates: candidates.map((n) => ({ nodeId: n.nodeId, address: n.address })),
      replicationFactor,
      writeQuorum: writeQuorum(replicationFactor, this.config.WRITE_QUORUM),
    };
  }

  async commit(request: filesApi.CommitUploadRequest): Promise<filesApi.FileRecord> {
    let summary: Awaited<ReturnType<ChunksRepository['summaryOfUpload']>> = [];
    const record = await this.reservations.withRoom(
      request.uploadId,
      request.ownerId,
      async (manager, upload) => {
        // Recorded again, harmlessly, if the upload waits for room and this runs once more.
        await this.recordStored(manager, upload, request.stored);
        summary = await this.chunks.summaryOfUpload(manager, upload.id);
        const sizes = summary.reduce((sum, c) => sum + Number(c.size_bytes) - upload.chunkOverhead, 0);
        if (summary.length !== request.chunkCount || summary.some((c, i) => c.index !== i)) {
          throw new InvalidArgumentError(`The upload has ${summary.length} chunks, not the ${request.chunkCount} announced`);
        }
        if (sizes !== request.size || upload.receivedBytes !== request.size)
          throw new InvalidArgumentError('The chunk sizes do not add up to the file size');
        if (upload.declaredSize >= 0 && upload.declaredSize !== request.size) {
          throw new InvalidArgumentError(`The upload ended after ${request.size} of the ${upload.declaredSize} bytes announced`);
        }
        if (!SHA256.test(request.sha256)) throw new InvalidArgumentError('sha256 must be 64 lowercase hex digits');
        if (upload.expectedSha256 && upload.expectedSha256 !== request.sha256)
          throw new ChecksumMismatchError('The file’s SHA-256 is not the one announced when the upload was created');
        if (summary.some((c) => Number(c.replicas) === 0))
          throw new StorageUnavailableError('A chunk of the upload has no stored replica');
        if (
          upload.chunkOverhead > 0 &&
          (request.wrappedDataKey.length === 0 || !(request.wrappedByUserKey || request.masterKeyId))
        )
          throw new InvalidArgumentError(
            "An encrypted upload needs its wrapped data key, and the master key id unless its owner's key wraps it",
          );
        // A younger upload may have had its reservation taken by an older one: it covers the file again first.
        return request.size;
      },
      async (manager, upload) => {
        const first = summary[0];
        const content: FileContent = {
          filename: upload.filename,
          sizeBytes: request.size,
          sha256: request.sha256,
          contentType: upload.contentType,
          chunkCount: summary.length,
          chunkSize: first ? Number(first.size_bytes) - upload.chunkOverhead : 0,
          chunkOverhead: upload.chunkOverhead,
          ...committedDataKey(request),
        };
        const { file, unchanged } = upload.versionOf
          ? await this.versions.commitNewVersion(manager, upload.ownerId, upload.versionOf, content)
          : {
              file: await this.files.insert(manager, {
                id: upload.fileId,
                publicId: upload.publicFileId,
                ownerId: upload.ownerId,
                ...content,
              }),
              unchanged: false,
            };
        if (unchanged) {
          // The file has this content already: the upload's copy is cut loose, and nothing charged.
          await this.chunks.detachFromUpload(manager, upload.id);
          await this.quotas.release(upload.ownerId, upload.reservedBytes, manager);
        } else {
          await this.chunks.attachToFile(manager, upload.id, file.id);
          await this.quotas.charge(upload.ownerId, upload.reservedBytes, request.size, manager, upload.versionOf ? 0 : 1);
        }
        await this.uploads.update(manager, upload.id, { status: 'committed', reservedBytes: 0 });
        await this.auditLog.append(
          [
            fileAuditEvent({
              operation: 'file.upload',
              status: 'success',
              userId: upload.ownerId,
              fileId: file.publicId,
              filename: file.filename,
              sizeBytes: file.sizeBytes,
              origin: request.origin,
              ...(file.version > 1 || unchanged
                ? { details: { version: file.version, ...(unchanged ? { unchanged } : {}) } }
                : {}),
            }),
          ],
          manager,
        );
        return { file, nodes: await this.chunks.nodesOfFile(file.id, manager), leftChunks: upload.versionOf !== null };
      },
    );
    // Versions dropped past VERSIONS_KEPT, or an unchanged upload, left chunks behind.
    if (record.leftChunks) await this.queues.collectOrphanChunks();
    return fileRecord(record.file, record.nodes);
  }

  /** Records the chunks of an open upload its nodes stored, and that it is alive. */
  async recordProgress(uploadId: string, ownerId: string, stored: readonly filesApi.StoredChunk[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      // The quota row before the upload's, as every change of uploads locks them.
      await this.quotas.lock(ownerId, manager);
      const upload = await this.uploads.lockOpen(manager, uploadId, ownerId);
      if (!upload) throw uploadNotFound();
      await this.recordStored(manager, upload, stored);
      await this.uploads.update(manager, upload.id, {});
    });
  }

  /** Releases the reservation and queues the upload's chunks for removal; a second abort is a no-op. */
  async abort(request: filesApi.AbortUploadRequest): Promise<void> {
    const aborted = await this.dataSource.transaction(async (manager) => {
      // The quota row before the upload's, as every change of reservations locks them.
      await this.quotas.lock(request.ownerId, manager);
      const upload = await this.uploads.lockOpen(manager, request.uploadId, request.ownerId);
      if (!upload) return undefined;
      await this.quotas.release(upload.ownerId, upload.reservedBytes, manager);
      await this.uploads.update(manager, upload.id, { status: 'aborted', reservedBytes: 0 });
      await this.auditLog.append(
        [
          fileAuditEvent({
            operation: 'file.upload',
            status: 'failure',
            errorCode: request.errorCode || 'INTERNAL_ERROR',
            userId: upload.ownerId,
            fileId: upload.publicFileId,
            filename: upload.filename,
            sizeBytes: upload.receivedBytes,
            origin: request.origin,
            ...(request.reason ? { details: { reason: request.reason.slice(0, 200) } } : {}),
          }),
        ],
        manager,
      );
      return upload;
    });
    if (aborted) await this.queues.collectUpload(aborted.id);
  }

  /** Aborts open uploads that have been idle too long: their gateway died mid-upload. */
  async abortIdle(): Promise<number> {
    return this.abortLeft(await this.uploads.findIdle(this.config.UPLOAD_IDLE_TIMEOUT_SECONDS), 'upload abandoned');
  }

  /** Drops resumable uploads not finished UPLOAD_EXPIRY_SECONDS after their creation. */
  async abortExpired(): Promise<number> {
    return this.abortLeft(await this.uploads.findExpired(), 'the resumable upload expired unfinished');
  }

  private async abortLeft(uploads: { id: string; owner_id: string }[], reason: string): Promise<number> {
    for (const upload of uploads) {
      await this.abort({ uploadId: upload.id, ownerId: upload.owner_id, errorCode: 'INTERNAL_ERROR', reason, origin: undefined });
    }
    if (uploads.length > 0) this.logger.info({ count: uploads.length, reason }, 'aborted uploads left unfinished');
    return uploads.length;
  }

  /** Aborted uploads whose chunks could not all be removed (a node was away): their collection is queued again. */
  async recollectLeftovers(): Promise<number> {
    const uploadIds = await this.uploads.abortedWithLeftovers(this.config.UPLOAD_IDLE_TIMEOUT_SECONDS);
    for (const uploadId of uploadIds) await this.queues.collectUpload(uploadId);
    return uploadIds.length;
  }

  /** The nodes that stored chunks of the upload, each among those planned for its chunk. */
  private async recordStored(
    manager: EntityManager,
    upload: UploadEntity,
    stored: readonly filesApi.StoredChunk[],
  ): Promise<void> {
    if (!(await this.chunks.recordStored(manager, upload.id, stored)))
      throw new InvalidArgumentError('A stored chunk is not of this upload, or a node was not planned for it');
  }
}
