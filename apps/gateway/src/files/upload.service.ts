import { createHash, type Hash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import { BufferPool, encodedChunkBytes, putChunk, TransferBudget, TransferBudgetTimeoutError } from '@cloudstore/chunk-transfer';
import type { GatewayConfig } from '@cloudstore/config';
import {
  type commonApi,
  DomainError,
  type filesApi,
  FileTooLargeError,
  InvalidArgumentError,
  StorageUnavailableError,
} from '@cloudstore/contracts';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { CHUNK_OVERHEAD, FileCipher } from '../encryption/file-cipher';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { InternalClients } from '../internal-clients/internal-clients';
import { ChunkSealer, type SealedChunk } from './chunk-sealer';
import { FileTransferMetrics } from './file-transfer.metrics';
import { owner } from './files.service';

/**
 * Chunks written to the nodes at once per upload, while one more fills: node round trips
 * (metadata calls, fsync) overlap. More bought nothing measurable here (the path is CPU-bound:
 * 6 in flight moved a 256 MiB upload at 39–42 MiB/s, 2 at 35–44) and each costs memory.
 */
export const CHUNK_WRITES_IN_FLIGHT = 2;

/**
 * Sealed chunk bytes held across all uploads at once (a chunk is held from its first byte until
 * every write of it has ended; while written, grpc-js frames a copy of it per replica, so the
 * gateway's memory grows by about four times this): past it, uploads wait for one another rather
 * than grow the gateway. With 4 MiB chunks: one upload at full speed, and small files beside it.
 */
export const UPLOAD_CHUNK_MEMORY_BYTES = 16 * 1024 * 1024;

/**
 * The longest an upload waits for room in that memory: the holders may be clients that trickle,
 * and past this the gateway is too busy for the upload (STORAGE_UNAVAILABLE, to retry).
 */
export const CHUNK_MEMORY_WAIT_MS = 60_000;

/** Failures after which a resumable upload is dropped rather than kept to go on with. */
const UNRESUMABLE: ReadonlySet<string> = new Set(['CHECKSUM_MISMATCH', 'FILE_NOT_FOUND', 'PERMISSION_DENIED']);

/** How long writes still under way may finish once a quorum has a chunk: as long as the quorum took, within these bounds. */
const QUORUM_GRACE_MS = { min: 250, max: 1000 };

/** Before the quorum has a chunk, a spell this long in which no write ends brings in the next candidate node. */
const WRITE_HEDGE_MS = 1000;

/** A node asked again after it could not be reached gets this long to come back and take the chunk. */
const PATIENT_WRITE_MS = 10_000;

/**
 * Deadline of the metadata calls that reserve quota (PrepareChunk, CommitUpload): an upload of
 * undeclared size may wait there while older uploads of the same user hold the room, for at most
 * the metadata service's QUOTA_WAIT_SECONDS (60 at most).
 */
const RESERVING_CALL_TIMEOUT_MS = 75_000;

export interface UploadParams {
  readonly caller: Caller;
  readonly filename: string;
  /** Content-Length or x-file-size when the client sent one; -1 otherwise. Reserved whole before any byte is stored. */
  readonly declaredSize: number;
  readonly contentType: string;
  readonly fileId: string;
  readonly origin: commonApi.RequestOrigin;
  /**
   * True once the client is known to have gone. A gRPC cancel can arrive after the stream's end
   * (grpc-js half-closes, then resets), later than any short wait for it under load: asked again
   * right before the commit, after the last chunk's writes, so a cancelled upload is never kept.
   */
  readonly clientGone?: () => boolean;
  /** Continues a resumable upload (ResumableUploads.resume) instead of opening one. */
  readonly resume?: ResumeState;
}

/** Where a resumable upload goes on: past its stored prefix, with the key and the hash of the bytes so far. */
export interface ResumeState {
  readonly uploadId: string;
  readonly fileId: string;
  readonly filename: string;
  readonly declaredSize: number;
  readonly dataKey: Buffer;
  readonly userKey: filesApi.UserKey;
  readonly nextIndex: number;
  readonly offset: number;
  /** SHA-256 fed with the prefix's bytes. */
  readonly hash: Hash;
  /** The prefix's last chunk ('' for none): the prefix is the same while it is. */
  readonly lastChunkId: string;
}

/**
 * What one part of a resumable upload (UploadService.uploadPart) came to: the file, when the part
 * ended the upload; else where the upload now stands, a whole-chunk offset, with the SHA-256 fed
 * with every byte before it (not to be fed further by the caller: a copy can be) and its last chunk.
 */
export type UploadPartResult =
  | { readonly file: filesApi.FileRecord }
  | { readonly file?: undefined; readonly offset: number; readonly hash: Hash; readonly lastChunkId: string };

/** The client went away before the upload ended. */
export class ClientGoneError extends Error {
  override name = 'ClientGoneError';
  constructor() {
    super('the client disconnected before the upload ended');
  }
}

/** The code an upload that failed with `error` is audited with. */
export function errorCodeOf(error: unknown): string {
  if (error instanceof DomainError) return error.code;
  return error instanceof ClientGoneError ? 'CLIENT_CANCELLED' : 'INTERNAL_ERROR';
}

/**
 * The write path. Bytes are sealed (AES-256-GCM under the file's own data key) and hashed as they
 * arrive, chunk by chunk (ChunkSealer); each full chunk is reserved in the quota and recorded by
 * the metadata service, then written to its nodes in parallel. A few chunks are written while the
 * next one fills, and the client is not read further until the oldest of them is done; chunks
 * come out of a budget shared by all uploads (UPLOAD_CHUNK_MEMORY_BYTES). So memory holds at most
 * CHUNK_WRITES_IN_FLIGHT + 1 chunks per upload and a bounded number in all, and a slow node
 * slows the client. The file exists only once the metadata service commits it; any failure aborts the
 * upload, which releases the reservation and leaves the written chunks to garbage collection.
 */
@Injectable()
export class UploadService {
  private readonly chunkBuffers: BufferPool;
  private readonly budget = new TransferBudget(UPLOAD_CHUNK_MEMORY_BYTES);

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly clients: InternalClients,
    private readonly metrics: FileTransferMetrics,
    private readonly cipher: FileCipher,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const bufferBytes = encodedChunkBytes(config.CHUNK_SIZE_BYTES + CHUNK_OVERHEAD);
    // Buffers of full chunks are kept for reuse up to the budget: memory the gateway may use anyway, without page faults.
    this.chunkBuffers = new BufferPool(bufferBytes, Math.max(1, Math.floor(UPLOAD_CHUNK_MEMORY_BYTES / bufferBytes)));
  }

  async upload(source: AsyncIterable<Uint8Array>, params: UploadParams): Promise<filesApi.FileRecord> {
    return (await this.transfer(source, params, false)).file as filesApi.FileRecord;
  }

  /**
   * One part of a resumable upload (`params.resume`), as tus sends them: the source may end short
   * of the declared size, on a whole chunk (the caller keeps any bytes past it); the chunks stored
   * are then recorded and the upload stays open. The part that brings the last byte commits it.
   */
  uploadPart(source: AsyncIterable<Uint8Array>, params: UploadParams & { resume: ResumeState }): Promise<UploadPartResult> {
    return this.transfer(source, params, true);
  }

  private async transfer(source: AsyncIterable<Uint8Array>, params: UploadParams, partial: boolean): Promise<UploadPartResult> {
    if (params.declaredSize > this.config.MAX_FILE_SIZE_BYTES) throw this.tooLarge();
    const resume = params.resume;
    // The file's id comes first: chunks are sealed under it, the first one before the upload opens.
    const fileId = resume?.fileId ?? (params.fileId || randomUUID());
    // Wrapped at the commit by the owner's key, which the upload's opening hands out (made then on first need).
    const dataKey = resume?.dataKey ?? this.cipher.newDataKey();
    let upload: filesApi.CreateUploadResponse | undefined = resume && {
      uploadId: resume.uploadId,
      fileId,
      filename: resume.filename,
      firstChunk: undefined,
      userKey: resume.userKey,
      expiresAt: 0,
    };
    let opening: Promise<filesApi.CreateUploadResponse> | undefined = upload && Promise.resolve(upload);
    const open = (firstChunk?: filesApi.ChunkDigest) =>
      (opening ??= this.clients.files
        .call(
          'createUpload',
          {
            owner: owner(params.caller),
            filename: params.filename,
            declaredSize: params.declaredSize,
            contentType: params.contentType,
            fileId: params.fileId,
            newFileId: params.fileId ? '' : fileId,
            origin: params.origin,
            chunkOverhead: CHUNK_OVERHEAD,
            firstChunk,
            newUserKey: this.cipher.proposeUserKey(params.caller.userId),
            resumable: false,
            expectedSha256: '',
          },
          { timeoutMs: RESERVING_CALL_TIMEOUT_MS },
        )
        .then((opened) => (upload = opened)));
    // A file of several chunks by its declared size opens at once, so that a refusal (its quota)
    // comes before its bytes; any other opens with its first chunk, in one metadata call.
    if (params.declaredSize > this.config.CHUNK_SIZE_BYTES) await open();
    const ids = () => ({ uploadId: upload?.uploadId ?? '', ownerId: params.caller.userId });
    const writing: Promise<void>[] = [];
    // Chunks their nodes stored, not yet told to the metadata service: they go with its next call.
    const stored: filesApi.StoredChunk[] = [];
    let lastChunk = { index: (resume?.nextIndex ?? 0) - 1, chunkId: resume?.lastChunkId ?? '' };
    let filling: ChunkSealer | undefined;
    try {
      const fileHash = resume?.hash ?? createHash('sha256');
      let size = resume?.offset ?? 0;
      let index = resume?.nextIndex ?? 0;
      let writeError: Error | undefined;
      const startChunk = async (): Promise<ChunkSealer> => {
        // Back-pressure: the client is not read further while the node writes are this far behind.
        if (writing.length >= CHUNK_WRITES_IN_FLIGHT) await writing.shift();
        if (writeError) throw writeError;
        // A chunk the declared size says is short (a small file, the last chunk) gets a buffer of its own size.
        const chunkSize = Math.min(
          this.config.CHUNK_SIZE_BYTES,
          params.declaredSize >= 0 ? params.declaredSize - index * this.config.CHUNK_SIZE_BYTES : Infinity,
        );
        const bytes = encodedChunkBytes(chunkSize + CHUNK_OVERHEAD);
        await this.budget.take(bytes, CHUNK_MEMORY_WAIT_MS).catch((error: unknown) => {
          throw error instanceof TransferBudgetTimeoutError
            ? new StorageUnavailableError('The gateway is at its limit of uploads in flight; try again shortly')
            : error;
        });
        const buffer = bytes === this.chunkBuffers.bufferBytes ? this.chunkBuffers.acquire() : Buffer.allocUnsafe(bytes);
        const chunkIndex = index;
        try {
          return new ChunkSealer(chunkIndex, buffer, chunkSize, (sink) =>
            this.cipher.chunkSealer(dataKey, fileId, chunkIndex, sink),
          );
        } catch (error) {
          this.releaseChunk(buffer);
          throw error;
        }
      };
      const submit = async (chunk: ChunkSealer) => {
        filling = undefined;
        let sealed: SealedChunk;
        try {
          sealed = chunk.finish();
        } catch (error) {
          this.releaseChunk(chunk.buffer);
          throw error;
        }
        let prepared: filesApi.PrepareChunkResponse | undefined;
        try {
          if (!opening) prepared = (await open({ size: sealed.encoded.size, sha256: sealed.sha256 })).firstChunk;
        } catch (error) {
          this.releaseChunk(sealed.buffer);
          throw error;
        }
        writing.push(
          this.writeChunk(ids(), sealed, stored, prepared)
            .then((chunkId) => {
              if (sealed.index > lastChunk.index) lastChunk = { index: sealed.index, chunkId };
            })
            .catch((error: unknown) => {
              writeError ??= error instanceof Error ? error : new Error(String(error));
            })
            .finally(() => this.releaseChunk(sealed.buffer)),
        );
        index += 1;
      };
      for await (const piece of source) {
        if (writeError) throw writeError;
        size += piece.length;
        if (size > this.config.MAX_FILE_SIZE_BYTES) throw this.tooLarge();
        // Refused before a byte past the declared size is stored.
        if (params.declaredSize >= 0 && size > params.declaredSize) {
          throw new InvalidArgumentError(`More bytes arrived than the ${params.declaredSize} declared`);
        }
        fileHash.update(piece);
        for (let offset = 0; offset < piece.length;) {
          filling ??= await startChunk();
          const take = Math.min(filling.room, piece.length - offset);
          filling.add(piece.subarray(offset, offset + take));
          offset += take;
          if (filling.room === 0) await submit(filling);
        }
      }
      if (partial && resume && size < params.declaredSize) {
        if (filling) throw new Error('a part of a resumable upload must end on a whole chunk');
        await Promise.all(writing);
        if (writeError) throw writeError;
        if (stored.length > 0)
          await this.clients.files.call('saveUploadProgress', { uploadId: resume.uploadId, stored: stored.splice(0) });
        return { offset: size, hash: fileHash, lastChunkId: lastChunk.chunkId };
      }
      if (params.declaredSize >= 0 && size !== params.declaredSize) {
        throw new InvalidArgumentError(`The upload ended after ${size} of the ${params.declaredSize} bytes declared`);
      }
      if (filling) await submit(filling);
      await Promise.all(writing);
      if (writeError) throw writeError;
      if (params.clientGone?.()) throw new ClientGoneError();
      const { userKey } = await open();
      if (!userKey) throw new Error('the metadata service gave no user key for the upload');
      const file = await this.clients.files.call(
        'commitUpload',
        {
          ...ids(),
          size,
          sha256: fileHash.digest('hex'),
          chunkCount: index,
          origin: params.origin,
          wrappedDataKey: this.cipher.wrapDataKey(userKey, fileId, dataKey),
          wrappedByUserKey: true,
          masterKeyId: '',
          // Not taken out of `stored`: should the commit fail, a resumable upload records them still.
          stored: [...stored],
        },
        { timeoutMs: RESERVING_CALL_TIMEOUT_MS },
      );
      this.metrics.uploadedBytes.inc(size);
      return { file };
    } catch (error) {
      if (filling) this.releaseChunk(filling.buffer);
      // Writes still landing on nodes after the abort would escape garbage collection.
      await Promise.allSettled(writing);
      // A resumable upload keeps what its nodes stored, to go on later; not when it can never be
      // committed (the wrong bytes, its file gone, its owner going).
      if (resume && !(error instanceof DomainError && UNRESUMABLE.has(error.code))) {
        await this.clients.files
          .call('saveUploadProgress', { uploadId: resume.uploadId, stored: stored.splice(0) })
          .catch((saveError: unknown) =>
            this.logger.warn({ err: saveError, uploadId: resume.uploadId }, 'could not record a resumable upload’s progress'),
          );
        throw error;
      }
      // An upload that failed before it opened is opened to be aborted: the failure is audited alike.
      if (!opening) await open().catch(() => undefined);
      if (upload) await this.abort(ids(), error, params.origin);
      throw error;
    }
  }

  private async abort(
    ids: { uploadId: string; ownerId: string },
    error: unknown,
    origin: commonApi.RequestOrigin,
  ): Promise<void> {
    await this.clients.files
      .call('abortUpload', {
        ...ids,
        errorCode: errorCodeOf(error),
        reason: error instanceof Error ? error.message : String(error),
        origin,
      })
      .catch((abortError: unknown) =>
        this.logger.warn({ err: abortError, uploadId: ids.uploadId }, 'could not abort the upload; the idle sweep will'),
      );
  }

  private releaseChunk(buffer: Buffer): void {
    if (buffer.length === this.chunkBuffers.bufferBytes) this.chunkBuffers.release(buffer);
    this.budget.release(buffer.length);
  }

  /**
   * Prepares the chunk (unless the upload's opening did), telling the metadata service of the
   * chunks stored meanwhile, writes it to its nodes, and leaves it among `stored` for the next call;
   * the chunk's id.
   */
  private async writeChunk(
    ids: { uploadId: string; ownerId: string },
    chunk: SealedChunk,
    stored: filesApi.StoredChunk[],
    prepared?: filesApi.PrepareChunkResponse,
  ): Promise<string> {
    let placement = prepared;
    if (!placement) {
      const told = stored.splice(0);
      try {
        placement = await this.clients.files.call(
          'prepareChunk',
          { ...ids, index: chunk.index, size: chunk.encoded.size, sha256: chunk.sha256, stored: told },
          { timeoutMs: RESERVING_CALL_TIMEOUT_MS },
        );
      } catch (error) {
        // Not recorded: they go with the next call (an abort leaves them to garbage collection anyway).
        stored.unshift(...told);
        throw error;
      }
    }
    stored.push({ chunkId: placement.chunkId, nodeIds: await this.replicate(placement, chunk) });
    return placement.chunkId;
  }

  /**
   * Writes the chunk to `replicationFactor` nodes at once (to suspect nodes only when too few
   * others answer), each failure moving on to the next candidate of the placement, and a spell of
   * WRITE_HEDGE_MS with no write ending bringing in the next candidate too. Once a write
   * quorum has it fsynced, the writes still under way get as long again as the quorum took
   * (within QUORUM_GRACE_MS) and are then cancelled: a stalled node costs an upload a bounded
   * delay, and the copies it missed are restored by the replication jobs. A node that could not be
   * reached is asked once more, waiting for it to connect, when the quorum needs it. Never enough
   * with fewer than the quorum.
   */
  private async replicate(prepared: filesApi.PrepareChunkResponse, chunk: SealedChunk): Promise<string[]> {
    const health = this.clients.storageNodes.health;
    const candidates = health.order(prepared.candidates);
    const answering = candidates.filter((c) => health.condition(c.nodeId) === 'up').length;
    const stored: string[] = [];
    const failures: string[] = [];
    const writes = new Set<AbortController>();
    const started = Date.now();
    // A spare write that raced a slow one can bring the copies past the factor: once the factor
    // is reached, the writes still under way are surplus and are cancelled.
    let factorReached: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => (factorReached = resolve));
    // Nodes not reached at all (down, or a channel still reconnecting after a restart): asked
    // again, patiently, when the quorum cannot be had otherwise.
    const unreached: filesApi.NodeTarget[] = [];
    const patient = new Set<filesApi.NodeTarget>();
    const writeToNext = async (): Promise<void> => {
      const target = candidates.shift();
      if (!target) return;
      const write = new AbortController();
      writes.add(write);
      try {
        await putChunk(
          this.clients.storageNodes.get(target.address),
          prepared.chunkId,
          chunk.sha256,
          chunk.encoded,
          patient.has(target)
            ? Math.min(PATIENT_WRITE_MS, this.config.CHUNK_WRITE_TIMEOUT_MS)
            : this.config.CHUNK_WRITE_TIMEOUT_MS,
          write.signal,
          patient.has(target),
        );
        stored.push(target.nodeId);
        if (stored.length >= prepared.replicationFactor) factorReached();
      } catch (error) {
        // Cancelled because the others already made the factor: not this node's failure.
        if (write.signal.aborted && stored.length >= prepared.replicationFactor) return;
        this.metrics.replicaWriteFailures.inc({ node_id: target.nodeId });
        // Too slow, or not reached at all, counts against the node; an answer it gave (full, say) does not.
        const unreachable = error instanceof DomainError && error.code === 'SERVICE_UNAVAILABLE';
        if (write.signal.aborted || unreachable) health.recordFailure(target, unreachable);
        if (write.signal.aborted) {
          failures.push(`${target.nodeId}: still writing when the quorum was done`);
          return;
        }
        failures.push(`${target.nodeId}: ${error instanceof Error ? error.message : String(error)}`);
        if (unreachable && !patient.has(target)) unreached.push(target);
        await writeToNext();
      } finally {
        writes.delete(write);
      }
    };
    const pending = new Set<Promise<void>>();
    const launch = () => {
      const write: Promise<void> = writeToNext().finally(() => pending.delete(write));
      pending.add(write);
    };
    const parallel = Math.min(prepared.replicationFactor, Math.max(answering, prepared.writeQuorum));
    for (let i = 0; i < parallel; i += 1) launch();
    const askAgain = () => {
      const target = unreached.shift();
      if (!target) return false;
      patient.add(target);
      candidates.push(target);
      launch();
      return true;
    };
    // Until the quorum has it: whenever no write ends within WRITE_HEDGE_MS, the next candidate is
    // written too, so nodes that stall (answering nothing, failing nothing) cannot hold the upload.
    while (stored.length < prepared.writeQuorum && (pending.size > 0 || askAgain())) {
      let timer: NodeJS.Timeout | undefined;
      const stalled = await Promise.race([
        Promise.race(pending).then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), WRITE_HEDGE_MS))),
      ]);
      clearTimeout(timer);
      if (stalled && candidates.length > 0) launch();
      else if (stalled) askAgain();
    }
    if (pending.size > 0) {
      const grace = Math.min(QUORUM_GRACE_MS.max, Math.max(QUORUM_GRACE_MS.min, Date.now() - started));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(pending), enough, new Promise((resolve) => (timer = setTimeout(resolve, grace)))]);
      clearTimeout(timer);
      for (const write of writes) write.abort();
      await Promise.all(pending);
    }
    if (stored.length < prepared.writeQuorum) {
      this.logger.warn({ chunkId: prepared.chunkId, stored, failures }, 'chunk write missed its quorum');
      throw new StorageUnavailableError(
        `Only ${stored.length} of the ${prepared.writeQuorum} storage nodes needed took the data; try again later`,
      );
    }
    if (stored.length < prepared.replicationFactor)
      this.logger.warn({ chunkId: prepared.chunkId, stored, failures }, 'chunk stored with fewer replicas than wanted');
    return stored;
  }

  private tooLarge(): DomainError {
    return new FileTooLargeError(`Files may be at most ${this.config.MAX_FILE_SIZE_BYTES} bytes`);
  }
}
