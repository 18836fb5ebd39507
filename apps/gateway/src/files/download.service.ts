import { Inject, Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import { type ReplicaReadError, ReplicaReader, ReplicasExhaustedError } from '@cloudstore/chunk-transfer';
import { ChecksumMismatchError, type commonApi, type filesApi, StorageUnavailableError } from '@cloudstore/contracts';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { FileCipher } from '../encryption/file-cipher';
import { InternalClients } from '../internal-clients/internal-clients';
import { FileTransferMetrics } from './file-transfer.metrics';
import { owner } from './files.service';

/** Chunks fetched ahead of the one being sent: memory holds at most this + 1 chunks per download. */
export const CHUNKS_READ_AHEAD = 2;

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

/** The planned chunks follow each other with no gap and span bytes [start, end]. */
function coversRange(chunks: ChunkToRead[], start: number, end: number, size: number): boolean {
  if (size === 0) return chunks.length === 0;
  const first = chunks[0];
  const last = chunks.at(-1);
  if (!first || !last || first.offset > start || last.offset + last.fileBytes <= end) return false;
  return chunks.every((c, i) => i === 0 || c.offset === chunks[i - 1].offset + chunks[i - 1].fileBytes);
}

/** Opens the sealed chunks of one file; files stored before encryption at rest pass as they are. */
type ChunkOpener = (index: number, stored: Buffer) => Buffer;

/**
 * The read path. The chunks that cover a range are read in order, each hedged across its replicas
 * (ReplicaReader), checked against its size and SHA-256, then opened with the file's data key
 * (which authenticates it again), before a byte of it is passed on. A missing or corrupt replica
 * is reported for repair; with no good replica left, even where the metadata says the chunk is
 * now, the download fails (CHECKSUM_MISMATCH or STORAGE_UNAVAILABLE), never with wrong bytes.
 * The next chunks are fetched while the current one is sent (CHUNKS_READ_AHEAD).
 */
@Injectable()
export class DownloadService {
  constructor(
    private readonly clients: InternalClients,
    private readonly reader: ReplicaReader,
    private readonly metrics: FileTransferMetrics,
    private readonly cipher: FileCipher,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async open(caller: Caller, fileId: string, range: ByteRange | undefined, origin: commonApi.RequestOrigin): Promise<Download> {
    const plan = await this.clients.files.call('getDownloadPlan', {
      owner: owner(caller),
      fileId,
      rangeStart: range?.start ?? 0,
      rangeEnd: range?.end ?? -1,
      origin,
    });
    const file = plan.file as filesApi.FileRecord;
    const start = range?.start ?? 0;
    const end = range?.end ?? file.size - 1;
    const chunks = plan.chunks.map((c) => ({ ...c, fileBytes: c.size - plan.chunkOverhead }));
    if (!coversRange(chunks, start, end, file.size)) {
      this.logger.error({ fileId, start, end }, 'the chunks of a file do not cover it: its metadata is damaged');
      throw new StorageUnavailableError('The file cannot be read completely now');
    }
    return { file, body: this.read(owner(caller), fileId, chunks, start, end, this.opener(plan)) };
  }

  private opener(plan: filesApi.DownloadPlan): ChunkOpener {
    const fileId = plan.file?.fileId ?? '';
    if (plan.wrappedDataKey.length === 0) return (_index, stored) => stored;
    let dataKey: Buffer;
    try {
      dataKey = this.cipher.unwrapDataKey(fileId, plan.wrappedDataKey, plan.masterKeyId);
    } catch (error) {
      this.logger.error(
        { err: error, fileId },
        'cannot unwrap the data key of a file: is MASTER_KEY the one it was stored with?',
      );
      throw error;
    }
    return (index, stored) => {
      try {
        return this.cipher.openChunk(dataKey, fileId, index, stored);
      } catch (error) {
        // The bytes matched their SHA-256, so the metadata itself does not match them.
        this.logger.error({ err: error, fileId, index }, 'a chunk failed authentication');
        throw new ChecksumMismatchError(`Chunk ${index} of the file failed authentication`);
      }
    };
  }

  private async *read(
    fileOwner: filesApi.Owner,
    fileId: string,
    chunks: ChunkToRead[],
    start: number,
    end: number,
    openChunk: ChunkOpener,
  ): AsyncGenerator<Buffer> {
    const fetches: Promise<Buffer>[] = [];
    const prefetch = (i: number) => {
      const chunk = chunks[i];
      if (!chunk) return;
      const fetching = this.fetch(fileOwner, fileId, chunk);
      // A failed prefetch is rethrown when its turn comes; until then it must not count as unhandled.
      fetching.catch(() => undefined);
      fetches.push(fetching);
    };
    for (let i = 0; i < CHUNKS_READ_AHEAD; i += 1) prefetch(i);
    for (const [i, chunk] of chunks.entries()) {
      const data = openChunk(chunk.index, await (fetches.shift() as Promise<Buffer>));
      prefetch(i + CHUNKS_READ_AHEAD);
      const from = Math.max(start, chunk.offset) - chunk.offset;
      const to = Math.min(end + 1, chunk.offset + chunk.fileBytes) - chunk.offset;
      this.metrics.downloadedBytes.inc(to - from);
      yield data.subarray(from, to);
    }
  }

  /**
   * One chunk, hedged across its replicas. When every replica fails, the metadata is asked where
   * the chunk is now (a repair or drain may have moved it) and the read is tried once more.
   */
  private async fetch(fileOwner: filesApi.Owner, fileId: string, chunk: filesApi.PlannedChunk): Promise<Buffer> {
    try {
      return await this.reader.read(chunk, (replica, error) => this.reportProblem(chunk, replica, error));
    } catch (error) {
      if (!(error instanceof ReplicasExhaustedError) || error.corrupt) throw this.unreadable(chunk, error);
    }
    const fresh = await this.clients.files.call('locateChunk', { owner: fileOwner, fileId, index: chunk.index });
    try {
      return await this.reader.read(
        { ...fresh, chunkId: chunk.chunkId, size: chunk.size, sha256: chunk.sha256 },
        (replica, error) => this.reportProblem(chunk, replica, error),
        // A node just restarted may still be reconnecting: wait for it a moment rather than fail.
        { patient: true },
      );
    } catch (error) {
      throw this.unreadable(chunk, error);
    }
  }

  private unreadable(chunk: filesApi.PlannedChunk, error: unknown): Error {
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
