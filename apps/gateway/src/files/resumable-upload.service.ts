import { createHash, type Hash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import type { GatewayConfig } from '@cloudstore/config';
import { type commonApi, type filesApi, FileTooLargeError, InvalidArgumentError } from '@cloudstore/contracts';
import { CHUNK_OVERHEAD, FileCipher } from '../encryption/file-cipher';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { InternalClients } from '../internal-clients/internal-clients';
import { DownloadService } from './download.service';
import { owner } from './files.service';
import type { ResumeState } from './upload.service';

/** The SHA-256 of an upload's bytes up to `offset`, where its chunk `lastChunkId` ends: spares reading them back. */
export interface PrefixHash {
  readonly offset: number;
  readonly lastChunkId: string;
  readonly hash: Hash;
}

/**
 * Resumable uploads, opened apart from their bytes: the size is reserved whole and the file's data
 * key made and kept (wrapped by the owner's key) at once, so that any gateway can go on with the
 * upload. Going on cuts the chunks past the stored prefix loose and reads the prefix back (its
 * bytes authenticated) to carry the whole file's SHA-256 on; UploadService then streams the rest.
 */
@Injectable()
export class ResumableUploadService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly clients: InternalClients,
    private readonly cipher: FileCipher,
    private readonly downloads: DownloadService,
  ) {}

  async create(
    caller: Caller,
    file: { filename: string; size: number; sha256: string; fileId: string; contentType?: string },
    origin: commonApi.RequestOrigin,
  ): Promise<filesApi.CreateUploadResponse> {
    if (!Number.isSafeInteger(file.size) || file.size < 0)
      throw new InvalidArgumentError('size must be the file’s size in bytes');
    if (file.size > this.config.MAX_FILE_SIZE_BYTES)
      throw new FileTooLargeError(`Files may be at most ${this.config.MAX_FILE_SIZE_BYTES} bytes`);
    const newFileId = file.fileId ? '' : randomUUID();
    const opened = await this.clients.files.call('createUpload', {
      owner: owner(caller),
      filename: file.filename,
      declaredSize: file.size,
      contentType: file.contentType || 'application/octet-stream',
      fileId: file.fileId,
      newFileId,
      origin,
      chunkOverhead: CHUNK_OVERHEAD,
      firstChunk: undefined,
      newUserKey: this.cipher.proposeUserKey(caller.userId),
      resumable: true,
      expectedSha256: file.sha256,
    });
    try {
      if (!opened.userKey) throw new Error('the metadata service gave no user key for the upload');
      const wrappedDataKey = this.cipher.wrapDataKey(opened.userKey, opened.fileId, this.cipher.newDataKey());
      await this.clients.files.call('setUploadDataKey', { uploadId: opened.uploadId, wrappedDataKey });
    } catch (error) {
      // An upload nobody can go on with must not hold the quota until it expires.
      await this.abort(caller, opened.uploadId, 'INTERNAL_ERROR', 'its data key could not be kept', origin).catch(
        () => undefined,
      );
      throw error;
    }
    return opened;
  }

  /** Drops the upload: its reservation released, its chunks collected (a no-op for one not open). */
  async abort(
    caller: Caller,
    uploadId: string,
    errorCode: string,
    reason: string,
    origin: commonApi.RequestOrigin,
  ): Promise<void> {
    await this.clients.files.call('abortUpload', { uploadId, ownerId: caller.userId, errorCode, reason, origin });
  }

  status(uploadId: string): Promise<filesApi.UploadStatus> {
    return this.clients.files.call('getUploadStatus', { uploadId });
  }

  /**
   * Where the upload goes on; `offset` must be that (its stored bytes), else INVALID_ARGUMENT naming
   * it (checked by the metadata service). The prefix is read back to hash it, unless `known` is its hash.
   */
  async resume(uploadId: string, offset: number, known?: PrefixHash): Promise<ResumeState> {
    const resumed = await this.clients.files.call('resumeUpload', { uploadId, offset, rewind: false });
    const status = resumed.status as filesApi.UploadStatus;
    const prefix = resumed.prefix as filesApi.DownloadPlan;
    const dataKey = this.cipher.unwrapDataKey(status.fileId, prefix);
    const lastChunkId = prefix.chunks.at(-1)?.chunkId ?? '';
    let hash: Hash;
    if (known && known.offset === status.offset && known.lastChunkId === lastChunkId) {
      hash = known.hash.copy();
    } else {
      hash = createHash('sha256');
      if (status.offset > 0) for await (const piece of (await this.downloads.openUploadPrefix(prefix)).body) hash.update(piece);
    }
    return {
      uploadId,
      fileId: status.fileId,
      filename: status.filename,
      declaredSize: status.declaredSize,
      dataKey,
      userKey: prefix.userKey as filesApi.UserKey,
      nextIndex: status.nextIndex,
      offset: status.offset,
      hash,
      lastChunkId,
    };
  }

  /** Goes back to `offset`, a whole-chunk boundary within the stored prefix: the chunks past it are cut loose. */
  async rewind(uploadId: string, offset: number): Promise<void> {
    await this.clients.files.call('resumeUpload', { uploadId, offset, rewind: true });
  }
}
