import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { MetadataConfig } from '@cloudstore/config';
import { FileNotFoundError, type filesApi, InvalidArgumentError } from '@cloudstore/contracts';
import { toUnixSeconds } from '@cloudstore/database';
import type { DataSource } from 'typeorm';
import { ChunksRepository, type ChunkWithReplicas } from '../files/chunks.repository';
import { JobQueues } from '../jobs/job-queues';
import { METADATA_CONFIG } from '../metadata.tokens';
import { QuotasRepository } from '../quotas/quotas.repository';
import { UserKeysService } from '../user-keys/user-keys.service';
import { isUuid } from '../uuid';
import type { UploadEntity } from './upload.entity';
import { UploadsRepository } from './uploads.repository';
import { UploadsService } from './uploads.service';

/** Unknown, committed, aborted or expired: there is no such upload to go on with. */
function noSuchUpload(): FileNotFoundError {
  return new FileNotFoundError('No such upload: it was finished, or it expired');
}

/** Bytes of the file in a stored prefix (without each chunk's overhead). */
function prefixBytes(prefix: readonly ChunkWithReplicas[], overhead: number): number {
  return prefix.reduce((sum, c) => sum + c.sizeBytes - overhead, 0);
}

function uploadStatus(upload: UploadEntity, prefix: readonly ChunkWithReplicas[]): filesApi.UploadStatus {
  return {
    uploadId: upload.id,
    fileId: upload.publicFileId,
    filename: upload.filename,
    declaredSize: upload.declaredSize,
    offset: prefixBytes(prefix, upload.chunkOverhead),
    nextIndex: prefix.length,
    expiresAt: toUnixSeconds(upload.expiresAt),
    committed: false,
  };
}

/** The chunks of `stored` a resume keeps: all of them, or those before a rewind's whole-chunk `offset` (all, if they end before it). */
function keptPrefix(stored: ChunkWithReplicas[], overhead: number, offset: number, rewind: boolean): ChunkWithReplicas[] {
  const at = prefixBytes(stored, overhead);
  if (!rewind) {
    if (offset !== at)
      throw new InvalidArgumentError(`The upload goes on at offset ${at}, not ${offset}: send the bytes from there`);
    return stored;
  }
  // Past the prefix (it shrank since: a node of it went away) there is nothing to go back over.
  if (offset >= at) return stored;
  const chunkSize = stored[0] ? stored[0].sizeBytes - overhead : 0;
  if (offset % chunkSize !== 0) throw new InvalidArgumentError(`The upload can go back to a chunk boundary, not to ${offset}`);
  return stored.slice(0, offset / chunkSize);
}

/**
 * Resumable uploads: an upload opened `resumable` (with its size, reserved whole) survives its
 * client going away. Where it stands is the chunks stored in a row from the first; a resume cuts
 * the later ones loose and goes on from there, with the data key kept at the opening. It is
 * committed like any upload once its last byte is in, and dropped (reservation released, chunks
 * collected) UPLOAD_EXPIRY_SECONDS after it was opened.
 */
@Injectable()
export class ResumableUploadsService {
  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly uploads: UploadsRepository,
    private readonly uploadsService: UploadsService,
    private readonly chunks: ChunksRepository,
    private readonly quotas: QuotasRepository,
    private readonly userKeys: UserKeysService,
    private readonly queues: JobQueues,
  ) {}

  async setDataKey(ownerId: string, request: filesApi.SetUploadDataKeyRequest): Promise<void> {
    if (!isUuid(request.uploadId) || request.wrappedDataKey.length === 0)
      throw new InvalidArgumentError('The data key is missing');
    if (!(await this.uploads.setDataKey(request.uploadId, ownerId, Buffer.from(request.wrappedDataKey)))) throw noSuchUpload();
  }

  /** Where the upload stands; a finished one (until it would have expired) as committed, at its size. */
  async status(ownerId: string, uploadId: string): Promise<filesApi.UploadStatus> {
    const upload = isUuid(uploadId) && isUuid(ownerId) ? await this.uploads.findUnexpiredResumable(uploadId, ownerId) : null;
    if (!upload) throw noSuchUpload();
    if (upload.status === 'committed') return { ...uploadStatus(upload, []), offset: upload.declaredSize, committed: true };
    return uploadStatus(upload, await this.chunks.storedPrefixOfUpload(upload.id, this.config.NODE_DOWN_AFTER_SECONDS));
  }

  /**
   * Where the upload goes on, having cut its chunks past the stored prefix loose; with a plan of
   * the prefix to hash it again. Another `offset` than the prefix's is refused first, cutting
   * nothing; unless `rewind`, which goes back to a whole-chunk `offset` within the prefix.
   */
  async resume(
    owner: filesApi.Owner,
    { uploadId, offset, rewind }: filesApi.ResumeUploadRequest,
  ): Promise<filesApi.ResumedUpload> {
    const found = await this.open(owner.userId, uploadId);
    if (!found.wrappedDataKey) throw new InvalidArgumentError('The upload has no data key yet');
    const { upload, prefix, cut } = await this.dataSource.transaction(async (manager) => {
      // The quota row before the upload's, as every change of reservations locks them.
      await this.quotas.lock(owner.userId, manager);
      const locked = await this.uploads.lockOpen(manager, uploadId, owner.userId);
      if (!locked) throw noSuchUpload();
      const stored = keptPrefix(
        await this.chunks.storedPrefixOfUpload(locked.id, this.config.NODE_DOWN_AFTER_SECONDS, manager),
        locked.chunkOverhead,
        offset,
        rewind,
      );
      const loose = await this.chunks.cutLooseBut(
        manager,
        locked.id,
        stored.map((c) => c.id),
      );
      await this.uploads.update(manager, locked.id, { receivedBytes: prefixBytes(stored, locked.chunkOverhead) });
      return { upload: locked, prefix: stored, cut: loose };
    });
    if (cut > 0) await this.queues.collectOrphanChunks();
    const userKey = await this.userKeys.ofOwner(owner.userId);
    // Every chunk of the prefix is a whole one: the first one's size is each one's.
    const chunkSize = prefix[0] ? prefix[0].sizeBytes - upload.chunkOverhead : 0;
    return {
      status: uploadStatus(upload, prefix),
      prefix: {
        file: {
          fileId: upload.publicFileId,
          filename: upload.filename,
          size: offset,
          sha256: '',
          uploadedAt: 0,
          contentType: upload.contentType,
          chunkCount: prefix.length,
          chunkSize,
          storageNodes: [],
          deletedAt: 0,
          purgeAt: 0,
          sharedBy: '',
          version: 0,
        },
        chunks: prefix.map((c) => ({
          chunkId: c.id,
          index: c.index,
          size: c.sizeBytes,
          sha256: c.sha256,
          offset: c.index * chunkSize,
          replicas: c.replicas.map((r) => ({ nodeId: r.nodeId, address: r.address })),
        })),
        wrappedDataKey: found.wrappedDataKey,
        masterKeyId: '',
        chunkOverhead: upload.chunkOverhead,
        userKey,
        wrappedByUserKey: true,
      },
    };
  }

  /** The chunks its nodes stored are recorded; the upload stays open until it expires. */
  async saveProgress(ownerId: string, request: filesApi.SaveUploadProgressRequest): Promise<filesApi.UploadStatus> {
    await this.open(ownerId, request.uploadId);
    await this.uploadsService.recordProgress(request.uploadId, ownerId, request.stored);
    return this.status(ownerId, request.uploadId);
  }

  private async open(ownerId: string, uploadId: string): Promise<UploadEntity> {
    const upload = isUuid(uploadId) && isUuid(ownerId) ? await this.uploads.findOpenResumable(uploadId, ownerId) : null;
    if (!upload) throw noSuchUpload();
    return upload;
  }
}
