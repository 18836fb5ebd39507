import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import type { GatewayConfig } from '@cloudstore/config';
import {
  type commonApi,
  DomainError,
  type filesApi,
  FileNotFoundError,
  InvalidArgumentError,
  InvalidFilenameError,
} from '@cloudstore/contracts';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { type RenewedLock, tryRedisLock } from '@cloudstore/redis';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { FileCipher } from '../encryption/file-cipher';
import { type PrefixHash, ResumableUploadService } from '../files/resumable-upload.service';
import { ClientGoneError, errorCodeOf, type ResumeState, UploadService } from '../files/upload.service';
import { GATEWAY_CONFIG, REDIS } from '../gateway.tokens';
import { BodyChecksumError, ChunkAlignedBody } from './chunk-aligned-body';
import { ChecksumRefusal, TusRefusal } from './tus-protocol';
import { tailBytes, type UploadTail, UploadTails } from './upload-tails';

/** How long an upload's lock lives without renewal: how soon the upload is free again if its gateway dies mid-request. */
const UPLOAD_LOCK_TTL_MS = 30_000;

/**
 * How long a request waits for another request on the same upload to end before it is refused
 * (423): long enough for the other, asked to stop, to keep what it has.
 */
const UPLOAD_LOCK_WAIT_MS = 10_000;
const UPLOAD_LOCK_POLL_MS = 50;

/** How often an append looks whether another request asked it to stop. */
const RELEASE_CHECK_MS = 250;

/** Uploads whose prefix hash this gateway keeps, so that the next request need not read the prefix back. */
const PREFIX_HASHES_KEPT = 1_000;

/** What tus tells a client of an upload. */
export interface TusUploadState {
  readonly uploadId: string;
  readonly fileId: string;
  readonly filename: string;
  readonly offset: number;
  readonly length: number;
  readonly expiresAt: number;
  /** The file, once the upload is finished by this request. */
  readonly file?: filesApi.FileRecord;
}

export interface TusUploadRequest {
  readonly offset: number;
  readonly body: AsyncIterable<Uint8Array>;
  /** Content-Length, when the client sent one: refused at once if it runs past the upload's length. */
  readonly length?: number;
  /** Upload-Checksum's SHA-256 of the body. */
  readonly checksum?: Buffer;
  readonly origin: commonApi.RequestOrigin;
  /** Stops the request (its body ends with ClientGoneError): another request asked for the upload. */
  readonly cancel?: () => void;
}

/**
 * tus 1.0 on the resumable uploads (ResumableUploadService), the bytes through UploadService like
 * every upload. The upload stands at its stored prefix of whole chunks plus its tail (UploadTails):
 * each request goes on from there and leaves the upload at a new such point, or commits it. One
 * request per upload at a time across gateways (a lock in Redis); a request whose Upload-Checksum
 * is wrong is undone (its chunks cut loose, the tail as it was).
 */
@Injectable()
export class TusUploadsService {
  /** SHA-256 of each upload's prefix as this gateway last left it (a copy is resumed). */
  private readonly prefixHashes = new LRUCache<string, PrefixHash>({ max: PREFIX_HASHES_KEPT });

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly resumable: ResumableUploadService,
    private readonly uploads: UploadService,
    private readonly tails: UploadTails,
    private readonly cipher: FileCipher,
  ) {}

  /**
   * Creation: the whole length reserved at once (QUOTA_EXCEEDED, FILE_TOO_LARGE before any byte),
   * with the first bytes when the request carries them (creation-with-upload; an empty upload is
   * finished at once). Should those fail, the upload is dropped: the client, which was given no
   * URL, creates another, and this one must not hold the quota until it expires.
   */
  async create(
    caller: Caller,
    upload: { length: number; metadata: Map<string, string> },
    origin: commonApi.RequestOrigin,
    firstBytes?: Omit<TusUploadRequest, 'offset'>,
  ): Promise<TusUploadState> {
    const filename = upload.metadata.get('filename') ?? upload.metadata.get('name');
    if (!filename) throw new InvalidFilenameError('Upload-Metadata must carry the filename');
    const opened = await this.resumable.create(
      caller,
      {
        filename,
        size: upload.length,
        sha256: '',
        fileId: upload.metadata.get('file_id') ?? '',
        contentType: upload.metadata.get('filetype') ?? upload.metadata.get('type') ?? '',
      },
      origin,
    );
    const created = {
      uploadId: opened.uploadId,
      fileId: opened.fileId,
      filename: opened.filename,
      offset: 0,
      length: upload.length,
      expiresAt: opened.expiresAt,
    };
    if (!firstBytes && upload.length > 0) return created;
    try {
      return await this.append(caller, opened.uploadId, { ...(firstBytes ?? { body: noBytes(), origin }), offset: 0 });
    } catch (error) {
      await this.resumable
        .abort(caller, opened.uploadId, errorCodeOf(error), 'its first bytes failed', origin)
        .catch((abortError: unknown) =>
          this.logger.warn({ err: abortError, uploadId: opened.uploadId }, 'could not drop a tus upload'),
        );
      throw error;
    }
  }

  /**
   * Where the upload stands (HEAD). One whose every byte is stored but that is not committed (its
   * commit failed) is committed now: a client told the offset is the length takes it as done.
   */
  async state(caller: Caller, uploadId: string, origin: commonApi.RequestOrigin): Promise<TusUploadState> {
    return this.locked(uploadId, async () => {
      const status = await this.resumable.status(uploadId);
      if (status.committed) return stateOf(status, status.declaredSize);
      const tail = await this.currentTail(uploadId, status);
      const at = status.offset + tailBytes(tail);
      if (at < status.declaredSize) return stateOf(status, at);
      return this.appendLocked(caller, status, tail, { offset: at, body: noBytes(), origin });
    });
  }

  /** Appends the body at `offset`, which must be where the upload stands (409 otherwise). */
  async append(caller: Caller, uploadId: string, request: TusUploadRequest): Promise<TusUploadState> {
    return this.locked(uploadId, async (lock) => {
      const status = await this.resumable.status(uploadId);
      if (status.committed) {
        if (request.offset !== status.declaredSize)
          throw new TusRefusal('INVALID_ARGUMENT', 409, `The upload is finished: it stands at ${status.declaredSize}`);
        return stateOf(status, status.declaredSize);
      }
      // Another request asking for the upload stops this one, which keeps what it has: the client of
      // a connection that died unnoticed comes back on another, and must not wait for this one to time out.
      const releaseRequested = setInterval(() => {
        this.redis.exists(releaseKey(lock.key)).then(
          (asked) => asked && request.cancel?.(),
          () => undefined,
        );
      }, RELEASE_CHECK_MS);
      const lockLost = () => request.cancel?.();
      lock.signal.addEventListener('abort', lockLost);
      try {
        return await this.appendLocked(caller, status, await this.currentTail(uploadId, status), request);
      } finally {
        clearInterval(releaseRequested);
        lock.signal.removeEventListener('abort', lockLost);
      }
    });
  }

  /** Termination: the reservation released, the chunks collected; FILE_NOT_FOUND when there is no open upload. */
  async terminate(caller: Caller, uploadId: string, origin: commonApi.RequestOrigin): Promise<void> {
    await this.locked(uploadId, async () => {
      const status = await this.resumable.status(uploadId);
      if (status.committed) throw new FileNotFoundError('The upload is finished: delete the file instead');
      await this.resumable.abort(caller, uploadId, 'CLIENT_CANCELLED', 'terminated by its client', origin);
      this.prefixHashes.delete(uploadId);
      await this.tails.delete(uploadId);
    });
  }

  private async appendLocked(
    caller: Caller,
    status: filesApi.UploadStatus,
    tail: UploadTail | undefined,
    request: TusUploadRequest,
  ): Promise<TusUploadState> {
    const uploadId = status.uploadId;
    const at = status.offset + tailBytes(tail);
    if (request.offset !== at)
      throw new TusRefusal('INVALID_ARGUMENT', 409, `The upload stands at offset ${at}, not ${request.offset}`);
    if (request.length !== undefined && at + request.length > status.declaredSize)
      throw new InvalidArgumentError(
        `The upload is ${status.declaredSize} bytes long: ${request.length} more from ${at} run past it`,
      );
    const resume = await this.resumable
      .resume(uploadId, status.offset, this.prefixHashes.get(uploadId))
      .catch((error: unknown) => {
        // The prefix changed since the status was read (a node of it went down): the client asks again.
        throw error instanceof DomainError && error.code === 'INVALID_ARGUMENT'
          ? new TusRefusal('INVALID_ARGUMENT', 409, error.message)
          : error;
      });
    const body = new ChunkAlignedBody(request.body, {
      start: status.offset,
      tail: tail ? this.cipher.openUploadTail(resume.dataKey, resume.fileId, tail.start, tail.sealed) : Buffer.alloc(0),
      chunkSize: this.config.CHUNK_SIZE_BYTES,
      size: status.declaredSize,
      ...(request.checksum ? { checksum: request.checksum } : {}),
    });
    try {
      const result = await this.uploads.uploadPart(body.pieces(), {
        caller,
        filename: resume.filename,
        declaredSize: resume.declaredSize,
        contentType: '',
        fileId: resume.fileId,
        origin: request.origin,
        resume,
      });
      if (result.file) {
        this.prefixHashes.delete(uploadId);
        await this.tails.delete(uploadId);
        return { ...stateOf(status, status.declaredSize), file: result.file };
      }
      this.prefixHashes.set(uploadId, { offset: result.offset, lastChunkId: result.lastChunkId, hash: result.hash });
      const kept = await this.keepTail(uploadId, resume, result.offset, body.remainder, status.expiresAt);
      return stateOf(status, result.offset + kept);
    } catch (error) {
      if (request.checksum) {
        // Bytes under a checksum count only once it held: none of a failed request's is kept.
        await this.undo(caller, uploadId, status.offset, request.origin);
        throw error instanceof BodyChecksumError ? new ChecksumRefusal() : error;
      }
      if (error instanceof ClientGoneError) {
        // What arrived past the last whole chunk stored is kept as well, should that chunk be the prefix's end.
        await this.keepTail(uploadId, resume, body.alignedEnd, body.remainder, status.expiresAt).catch((keepError: unknown) =>
          this.logger.warn({ err: keepError, uploadId }, 'could not keep the bytes of a cut-off tus request'),
        );
      }
      throw error;
    }
  }

  /**
   * Takes the upload back to `offset` (the chunks stored past it cut loose; the tail, not rewritten,
   * stays as it was); should that fail, drops the upload rather than let unchecked bytes be committed.
   */
  private async undo(caller: Caller, uploadId: string, offset: number, origin: commonApi.RequestOrigin): Promise<void> {
    this.prefixHashes.delete(uploadId);
    try {
      await this.resumable.rewind(uploadId, offset);
    } catch (error) {
      this.logger.warn(
        { err: error, uploadId },
        'could not rewind a tus upload past bytes that failed their checksum; dropping it',
      );
      await this.resumable
        .abort(caller, uploadId, 'CHECKSUM_MISMATCH', 'bytes that failed their checksum could not be cut loose', origin)
        .catch((abortError: unknown) => this.logger.error({ err: abortError, uploadId }, 'could not drop a tus upload'));
    }
  }

  /** The tail, if it goes on from where the stored prefix ends now (else it is stale: its bytes are stored, or are to be sent again). */
  private async currentTail(uploadId: string, status: filesApi.UploadStatus): Promise<UploadTail | undefined> {
    const tail = await this.tails.get(uploadId);
    return tail?.start === status.offset ? tail : undefined;
  }

  /** Keeps `bytes` as the tail from `start`; how many it kept. */
  private async keepTail(
    uploadId: string,
    resume: ResumeState,
    start: number,
    bytes: Buffer,
    expiresAt: number,
  ): Promise<number> {
    if (bytes.length === 0) {
      await this.tails.delete(uploadId);
      return 0;
    }
    const sealed = this.cipher.sealUploadTail(resume.dataKey, resume.fileId, start, bytes);
    await this.tails.set(uploadId, { start, sealed }, expiresAt);
    return bytes.length;
  }

  /**
   * Runs `work` holding the upload's lock. A request that finds it held asks the holder to let it
   * go (an append stops, keeping what it has) and waits that long; 423 after that.
   */
  private async locked<T>(uploadId: string, work: (lock: RenewedLock) => Promise<T>): Promise<T> {
    const key = `${this.config.REDIS_KEY_PREFIX}:lock:upload:${uploadId}`;
    const deadline = Date.now() + UPLOAD_LOCK_WAIT_MS;
    let lock = await tryRedisLock(this.redis, key, UPLOAD_LOCK_TTL_MS);
    if (!lock) await this.redis.set(releaseKey(key), '1', 'PX', UPLOAD_LOCK_WAIT_MS);
    while (!lock) {
      if (Date.now() >= deadline) throw new TusRefusal('INVALID_ARGUMENT', 423, 'Another request is writing to this upload');
      await new Promise((resolve) => setTimeout(resolve, UPLOAD_LOCK_POLL_MS));
      lock = await tryRedisLock(this.redis, key, UPLOAD_LOCK_TTL_MS);
    }
    const held = lock;
    try {
      // Asked of whoever held it before: not of this request.
      await this.redis.del(releaseKey(key));
      return await work(held);
    } finally {
      await held
        .release()
        .catch((error: unknown) => this.logger.warn({ err: error, uploadId }, 'could not release an upload’s lock'));
    }
  }
}

/** An empty body: a request that only finishes an upload whose bytes are all in. */
function noBytes(): AsyncIterable<Uint8Array> {
  return Readable.from([]);
}

/** Where requests ask the holder of the lock at `lockKey` to let it go. */
function releaseKey(lockKey: string): string {
  return `${lockKey}:release`;
}

function stateOf(status: filesApi.UploadStatus, offset: number): TusUploadState {
  return {
    uploadId: status.uploadId,
    fileId: status.fileId,
    filename: status.filename,
    offset,
    length: status.declaredSize,
    expiresAt: status.expiresAt,
  };
}
