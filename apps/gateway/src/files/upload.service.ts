import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import { BufferPool, ChunkMessageWriter, type EncodedChunk, encodedChunkBytes, putChunk } from '@cloudstore/chunk-transfer';
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
import { CHUNK_OVERHEAD, type DataKey, FileCipher } from '../encryption/file-cipher';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { InternalClients } from '../internal-clients/internal-clients';
import { ChunkAssembler } from './chunk-assembler';
import { FileTransferMetrics } from './file-transfer.metrics';
import { owner } from './files.service';

/**
 * Chunks written to the nodes at once per upload, while one more fills: memory holds at most
 * (this + 1) chunks per upload, and node round trips (metadata calls, fsync) overlap.
 */
export const CHUNK_WRITES_IN_FLIGHT = 2;

/**
 * Sealed-chunk buffers kept for reuse while no upload needs them: enough for a few uploads' chunks
 * in flight, little memory when idle.
 */
const IDLE_CHUNK_BUFFERS = 8;

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
}

/** The client went away before the upload ended. */
export class ClientGoneError extends Error {
  override name = 'ClientGoneError';
  constructor() {
    super('the client disconnected before the upload ended');
  }
}

function errorCodeOf(error: unknown): string {
  if (error instanceof DomainError) return error.code;
  return error instanceof ClientGoneError ? 'CLIENT_CANCELLED' : 'INTERNAL_ERROR';
}

/**
 * A chunk as the nodes store it: sealed under the file's data key, laid out as the messages that
 * carry it to every replica, in `buffer` (pooled: given back once every write of it has ended);
 * and the SHA-256 of the sealed bytes.
 */
interface SealedChunk {
  readonly index: number;
  readonly buffer: Buffer;
  readonly encoded: EncodedChunk;
  readonly sha256: string;
}

/**
 * The write path. Bytes are cut into chunks as they arrive, each chunk sealed (AES-256-GCM under
 * the file's own data key) and hashed, reserved in the quota and recorded by the metadata
 * service, then written to its nodes in parallel; a few
 * chunks are written while the next one fills, and the client is not read further until the
 * oldest of them is done. So memory holds at most CHUNK_WRITES_IN_FLIGHT + 1 chunks per upload,
 * and a slow node slows the client. The file exists only once the metadata service commits it; any failure aborts the
 * upload, which releases the reservation and leaves the written chunks to garbage collection.
 */
@Injectable()
export class UploadService {
  private readonly chunkBuffers: BufferPool;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly clients: InternalClients,
    private readonly metrics: FileTransferMetrics,
    private readonly cipher: FileCipher,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.chunkBuffers = new BufferPool(encodedChunkBytes(config.CHUNK_SIZE_BYTES + CHUNK_OVERHEAD), IDLE_CHUNK_BUFFERS);
  }

  async upload(source: AsyncIterable<Uint8Array>, params: UploadParams): Promise<filesApi.FileRecord> {
    if (params.declaredSize > this.config.MAX_FILE_SIZE_BYTES) throw this.tooLarge();
    const upload = await this.clients.files.call('createUpload', {
      owner: owner(params.caller),
      filename: params.filename,
      declaredSize: params.declaredSize,
      contentType: params.contentType,
      fileId: params.fileId,
      origin: params.origin,
      chunkOverhead: CHUNK_OVERHEAD,
    });
    const ids = { uploadId: upload.uploadId, ownerId: params.caller.userId };
    const dataKey = this.cipher.newDataKey(upload.fileId);
    const writing: Promise<void>[] = [];
    try {
      const fileHash = createHash('sha256');
      const assembler = new ChunkAssembler(this.config.CHUNK_SIZE_BYTES);
      let size = 0;
      let index = 0;
      let writeError: Error | undefined;
      const submit = async (chunk: Buffer) => {
        // Back-pressure: the client is not read further while the node writes are this far behind.
        if (writing.length >= CHUNK_WRITES_IN_FLIGHT) await writing.shift();
        if (writeError) throw writeError;
        // Sealed now, before the assembler reuses the plaintext's buffer.
        const sealed = this.seal(dataKey, upload.fileId, index, chunk);
        writing.push(
          this.writeChunk(ids, sealed)
            .catch((error: unknown) => {
              writeError ??= error instanceof Error ? error : new Error(String(error));
            })
            .finally(() => this.chunkBuffers.release(sealed.buffer)),
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
        for (const chunk of assembler.push(piece)) await submit(chunk);
      }
      if (params.declaredSize >= 0 && size !== params.declaredSize) {
        throw new InvalidArgumentError(`The upload ended after ${size} of the ${params.declaredSize} bytes declared`);
      }
      const tail = assembler.flush();
      if (tail) await submit(tail);
      await Promise.all(writing);
      if (writeError) throw writeError;
      const file = await this.clients.files.call(
        'commitUpload',
        {
          ...ids,
          size,
          sha256: fileHash.digest('hex'),
          chunkCount: index,
          origin: params.origin,
          wrappedDataKey: dataKey.wrapped,
          masterKeyId: this.cipher.masterKeyId,
        },
        { timeoutMs: RESERVING_CALL_TIMEOUT_MS },
      );
      this.metrics.uploadedBytes.inc(size);
      return file;
    } catch (error) {
      // Writes still landing on nodes after the abort would escape garbage collection.
      await Promise.allSettled(writing);
      await this.clients.files
        .call('abortUpload', {
          ...ids,
          errorCode: errorCodeOf(error),
          reason: error instanceof Error ? error.message : String(error),
          origin: params.origin,
        })
        .catch((abortError: unknown) =>
          this.logger.warn({ err: abortError, uploadId: upload.uploadId }, 'could not abort the upload; the idle sweep will'),
        );
      throw error;
    }
  }

  /** Seals a chunk into a pooled buffer, hashing the sealed bytes as they land (still in the cache). */
  private seal(dataKey: DataKey, fileId: string, index: number, plain: Buffer): SealedChunk {
    const buffer = this.chunkBuffers.acquire();
    try {
      const writer = new ChunkMessageWriter(buffer, plain.length + CHUNK_OVERHEAD);
      const hash = createHash('sha256');
      this.cipher.sealChunk(dataKey.key, fileId, index, plain, (bytes) => {
        writer.append(bytes);
        hash.update(bytes);
      });
      return { index, buffer, encoded: writer.finish(), sha256: hash.digest('hex') };
    } catch (error) {
      this.chunkBuffers.release(buffer);
      throw error;
    }
  }

  private async writeChunk(ids: { uploadId: string; ownerId: string }, chunk: SealedChunk): Promise<void> {
    const prepared = await this.clients.files.call(
      'prepareChunk',
      { ...ids, index: chunk.index, size: chunk.encoded.size, sha256: chunk.sha256 },
      { timeoutMs: RESERVING_CALL_TIMEOUT_MS },
    );
    const stored = await this.replicate(prepared, chunk);
    await this.clients.files.call('completeChunk', { ...ids, chunkId: prepared.chunkId, nodeIds: stored });
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
