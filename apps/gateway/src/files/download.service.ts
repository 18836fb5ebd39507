import { Inject, Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import {
  ChunkUnopenableError,
  type ReplicaReadError,
  ReplicaReader,
  ReplicasExhaustedError,
  TransferBudget,
  TransferBudgetTimeoutError,
} from '@cloudstore/chunk-transfer';
import { ChecksumMismatchError, type commonApi, type filesApi, StorageUnavailableError } from '@cloudstore/contracts';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { FileCipher } from '../encryption/file-cipher';
import { InternalClients } from '../internal-clients/internal-clients';
import { FileTransferMetrics } from './file-transfer.metrics';
import { owner } from './files.service';

/** Chunks fetched ahead of the one being sent: memory holds at most this + 1 chunks per download. */
export const CHUNKS_READ_AHEAD = 2;

/**
 * Chunk bytes being read or sent across all downloads at once (a chunk is held from the start of
 * its read until its last byte was handed on; meanwhile it exists about twice, sealed as it came
 * and opened): past it, downloads wait for one another rather than grow the gateway.
 */
export const DOWNLOAD_CHUNK_MEMORY_BYTES = 16 * 1024 * 1024;

/**
 * The longest a chunk of a download waits for room in that memory: the holders may be clients
 * that stopped reading, and past this the gateway is too busy for the download (STORAGE_UNAVAILABLE).
 */
export const CHUNK_READ_WAIT_MS = 60_000;

/** Buffers for sealed chunks being read, kept for reuse while no download needs them: a few downloads' worth. */
export const IDLE_READ_BUFFERS = 8;

export interface ByteRange {
  readonly start: number;
  /** Inclusive. */
  readonly end: number;
}

export interface Download {
  readonly file: filesApi.FileRecord;
  /** Verified bytes of the range, in order. */
  readonly body: AsyncGenerator<Buffer>;
}

/** A planned chunk with how many bytes of the file it holds (its stored size less the overhead). */
interface ChunkToRead extends filesApi.PlannedChunk {
  readonly fileBytes: number;
}

/** Bytes [from, to) of a chunk held as consecutive pieces, as views of those pieces. */
function* slicePieces(pieces: readonly Buffer[], from: number, to: number): Generator<Buffer> {
  let offset = 0;
  for (const piece of pieces) {
    const start = Math.max(from - offset, 0);
    const end = Math.min(to - offset, piece.length);
    if (start < end) yield piece.subarray(start, end);
    offset += piece.length;
    if (offset >= to) return;
  }
}

/** The planned chunks follow each other with no gap and span bytes [start, end]. */
function coversRange(chunks: ChunkToRead[], start: number, end: number, size: number): boolean {
  if (size === 0) return chunks.length === 0;
  const first = chunks[0];
  const last = chunks.at(-1);
  if (!first || !last || first.offset > start || last.offset + last.fileBytes <= end) return false;
  return chunks.every((c, i) => i === 0 || c.offset === chunks[i - 1].offset + chunks[i - 1].fileBytes);
}

/**
 * Opens (authenticates and decrypts) a sealed chunk of one file, as plaintext pieces; undefined
 * for a file stored before encryption at rest, whose chunks are checked by their SHA-256.
 */
type ChunkOpener = ((index: number, stored: Buffer) => Buffer[]) | undefined;

/** Where a download's plan comes from, and a chunk's replicas as they are now: a user's file, or a link's. */
interface PlanSource {
  plan(rangeStart: number, rangeEnd: number): Promise<filesApi.DownloadPlan>;
  locate(index: number): Promise<filesApi.PlannedChunk>;
}

/**
 * The read path. The chunks that cover a range are read in order, each hedged across its replicas
 * (ReplicaReader) and opened with the file's data key, whose AES-GCM tag authenticates every byte
 * (a file stored before encryption at rest is checked by SHA-256 instead), before a byte of it is
 * passed on. A missing or corrupt replica
 * is reported for repair; with no good replica left, even where the metadata says the chunk is
 * now, the download fails (CHECKSUM_MISMATCH or STORAGE_UNAVAILABLE), never with wrong bytes.
 * The next chunks are fetched while the current one is sent (CHUNKS_READ_AHEAD), each chunk out
 * of a budget shared by all downloads (DOWNLOAD_CHUNK_MEMORY_BYTES).
 */
@Injectable()
export class DownloadService {
  private readonly budget = new TransferBudget(DOWNLOAD_CHUNK_MEMORY_BYTES);

  constructor(
    private readonly clients: InternalClients,
    private readonly reader: ReplicaReader,
    private readonly metrics: FileTransferMetrics,
    private readonly cipher: FileCipher,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** A file the caller may read: their own, or one shared with them; or an earlier version of their own. */
  open(
    caller: Caller,
    fileId: string,
    range: ByteRange | undefined,
    origin: commonApi.RequestOrigin,
    versionId = '',
  ): Promise<Download> {
    const reader = owner(caller);
    return this.openPlanned(range, {
      plan: (rangeStart, rangeEnd) =>
        this.clients.files.call('getDownloadPlan', { owner: reader, fileId, rangeStart, rangeEnd, origin, versionId }),
      locate: (index) => this.clients.files.call('locateChunk', { owner: reader, fileId, index, versionId }),
    });
  }

  /** The file of a download link, named by the SHA-256 of the link's secret (its password checked already). */
  openLink(tokenSha256: Buffer, range: ByteRange | undefined, origin: commonApi.RequestOrigin): Promise<Download> {
    return this.openPlanned(range, {
      plan: (rangeStart, rangeEnd) =>
        this.clients.files.call('getLinkDownloadPlan', { tokenSha256, rangeStart, rangeEnd, origin }),
      locate: (index) => this.clients.files.call('locateLinkChunk', { tokenSha256, index }),
    });
  }

  /**
   * The stored prefix of a resumable upload, as ResumeUpload planned it: its chunks are read (and
   * authenticated) like a file's, to hash them again. Not relocated: an upload's chunks are not repaired.
   */
  openUploadPrefix(plan: filesApi.DownloadPlan): Promise<Download> {
    return this.openPlanned(undefined, {
      plan: () => Promise.resolve(plan),
      locate: () =>
        Promise.reject(new StorageUnavailableError('A stored chunk of the upload cannot be read now; try again later')),
    });
  }

  private async openPlanned(range: ByteRange | undefined, source: PlanSource): Promise<Download> {
    const plan = await source.plan(range?.start ?? 0, range?.end ?? -1);
    const file = plan.file as filesApi.FileRecord;
    const fileId = file.fileId;
    const start = range?.start ?? 0;
    const end = range?.end ?? file.size - 1;
    const chunks = plan.chunks.map((c) => ({ ...c, fileBytes: c.size - plan.chunkOverhead }));
    if (!coversRange(chunks, start, end, file.size)) {
      this.logger.error({ fileId, start, end }, 'the chunks of a file do not cover it: its metadata is damaged');
      throw new StorageUnavailableError('The file cannot be read completely now');
    }
    return { file, body: this.read(source, fileId, chunks, start, end, this.opener(plan)) };
  }

  private opener(plan: filesApi.DownloadPlan): ChunkOpener {
    const fileId = plan.file?.fileId ?? '';
    if (plan.wrappedDataKey.length === 0) return undefined;
    let dataKey: Buffer;
    try {
      dataKey = this.cipher.unwrapDataKey(fileId, plan);
    } catch (error) {
      this.logger.error(
        { err: error, fileId },
        'cannot unwrap the data key of a file: is MASTER_KEY (or MASTER_KEY_PREVIOUS, during a rotation) the one it was stored with?',
      );
      throw error;
    }
    return (index, stored) => this.cipher.openChunk(dataKey, fileId, index, stored);
  }

  private async *read(
    source: PlanSource,
    fileId: string,
    chunks: ChunkToRead[],
    start: number,
    end: number,
    openChunk: ChunkOpener,
  ): AsyncGenerator<Buffer> {
    // Each fetch holds a chunk of the budget from its start until its bytes were handed on (or it failed).
    const fetches: { size: number; fetching: Promise<Buffer[]> }[] = [];
    const prefetch = (i: number) => {
      const chunk = chunks[i];
      if (!chunk) return;
      const room = this.budget.take(chunk.size, CHUNK_READ_WAIT_MS).catch((error: unknown) => {
        throw error instanceof TransferBudgetTimeoutError
          ? new StorageUnavailableError('The gateway is at its limit of downloads in flight; try again shortly')
          : error;
      });
      const fetching = room.then(() =>
        this.fetch(source, fileId, chunk, openChunk).catch((error: unknown) => {
          this.budget.release(chunk.size);
          throw error;
        }),
      );
      // A failed prefetch is rethrown when its turn comes; until then it must not count as unhandled.
      fetching.catch(() => undefined);
      fetches.push({ size: chunk.size, fetching });
    };
    try {
      for (let i = 0; i < CHUNKS_READ_AHEAD; i += 1) prefetch(i);
      for (const [i, chunk] of chunks.entries()) {
        const pieces = await (fetches.shift()?.fetching as Promise<Buffer[]>);
        try {
          prefetch(i + CHUNKS_READ_AHEAD);
          const from = Math.max(start, chunk.offset) - chunk.offset;
          const to = Math.min(end + 1, chunk.offset + chunk.fileBytes) - chunk.offset;
          this.metrics.downloadedBytes.inc(to - from);
          yield* slicePieces(pieces, from, to);
        } finally {
          this.budget.release(chunk.size);
        }
      }
    } finally {
      // A download ended early (failed, or its client left): the chunks fetched ahead give their memory back.
      for (const { size, fetching } of fetches)
        fetching.then(
          () => this.budget.release(size),
          () => undefined,
        );
    }
  }

  /**
   * One chunk, hedged across its replicas. When every replica fails, the metadata is asked where
   * the chunk is now (a repair or drain may have moved it) and the read is tried once more.
   */
  private async fetch(
    source: PlanSource,
    fileId: string,
    chunk: filesApi.PlannedChunk,
    openChunk: ChunkOpener,
  ): Promise<Buffer[]> {
    const report = (replica: filesApi.NodeTarget, error: ReplicaReadError) => this.reportProblem(chunk, replica, error);
    const open = openChunk && ((stored: Buffer) => openChunk(chunk.index, stored));
    const read = (replicas: filesApi.PlannedChunk, patient: boolean) =>
      open
        ? this.reader.read(replicas, report, { patient, open })
        : this.reader.read(replicas, report, { patient }).then((data) => [data]);
    try {
      return await read(chunk, false);
    } catch (error) {
      if (!(error instanceof ReplicasExhaustedError) || error.corrupt) throw this.unreadable(fileId, chunk, error);
    }
    const fresh = await source.locate(chunk.index);
    try {
      // A node just restarted may still be reconnecting: wait for it a moment rather than fail.
      return await read({ ...fresh, chunkId: chunk.chunkId, size: chunk.size, sha256: chunk.sha256 }, true);
    } catch (error) {
      throw this.unreadable(fileId, chunk, error);
    }
  }

  private unreadable(fileId: string, chunk: filesApi.PlannedChunk, error: unknown): Error {
    if (error instanceof ChunkUnopenableError) {
      // The bytes match their SHA-256, so the file's metadata (its key) does not match them.
      this.logger.error({ err: error, fileId, index: chunk.index }, 'a chunk failed authentication');
      return new ChecksumMismatchError(`Chunk ${chunk.index} of the file failed authentication`);
    }
    if (!(error instanceof ReplicasExhaustedError)) return error as Error;
    this.logger.warn({ chunkId: chunk.chunkId, reason: error.message }, 'no replica of a chunk could be read');
    return error.corrupt
      ? new ChecksumMismatchError(`No replica of chunk ${chunk.index} matches its checksum`)
      : new StorageUnavailableError(`No replica of chunk ${chunk.index} could be read; try again later`);
  }

  /** Missing and corrupt replicas are marked for repair; slow and unreachable ones feed the metadata's view of the node. */
  private reportProblem(chunk: filesApi.PlannedChunk, replica: filesApi.NodeTarget, error: ReplicaReadError): void {
    this.metrics.replicaReadFailures.inc({ node_id: replica.nodeId, problem: error.problem });
    this.logger.warn(
      { chunkId: chunk.chunkId, nodeId: replica.nodeId, problem: error.problem, reason: error.message },
      'replica read failed',
    );
    this.clients.files
      .call('reportReplicaProblem', {
        chunkId: chunk.chunkId,
        nodeId: replica.nodeId,
        problem: error.problem,
        detail: error.message.slice(0, 500),
      })
      .catch((reportError: unknown) => this.logger.warn({ err: reportError }, 'could not report a replica problem'));
  }
}
