import { createHash } from 'node:crypto';
import type { BufferPool } from './buffer-pool';
import { readChunk, ReadCancelledError, ReplicaReadError } from './chunk-transfer';
import type { Replica } from './node-health';
import type { StorageNodeClients } from './storage-node-clients';

export interface ChunkReplicas<R extends Replica = Replica> {
  readonly chunkId: string;
  readonly size: number;
  readonly sha256: string;
  readonly replicas: readonly R[];
}

/** How long a patient read waits for a node that is coming back (its channel reconnecting). */
const RECONNECT_WINDOW_MS = 5000;

/** Every replica of a chunk failed; `problems` says how each did. */
export class ReplicasExhaustedError extends Error {
  override name = 'ReplicasExhaustedError';
  constructor(
    readonly chunkId: string,
    readonly problems: readonly ReplicaReadError[],
  ) {
    super(`no replica of chunk ${chunkId} could be read: ${problems.map((p) => p.message).join('; ') || 'it has none'}`);
  }

  /** Some replica had wrong bytes (rather than none answering). */
  get corrupt(): boolean {
    return this.problems.some((p) => p.problem === 'corrupt');
  }
}

/**
 * A chunk whose bytes match their SHA-256 but cannot be opened: the metadata that says how to
 * open it (its key, say) is wrong, not the replica, so no other replica is tried.
 */
export class ChunkUnopenableError extends Error {
  override name = 'ChunkUnopenableError';
}

export interface ReadOptions<T> {
  /** For a second try after every replica failed: calls wait for a node's channel to (re)connect, up to RECONNECT_WINDOW_MS, rather than fail at once. */
  readonly patient?: boolean;
  /**
   * Authenticates a replica's bytes and turns them into what the read returns (AES-GCM opening a
   * sealed chunk, say), instead of hashing them: a replica it refuses counts as corrupt. `data`
   * may be a pooled buffer, reused once `open` returns: what it returns must not be a view of it.
   */
  readonly open?: (data: Buffer) => T;
}

/** Told of each replica that failed a read (missing, corrupt, unavailable), to report or mark it. */
export type ReplicaProblemListener<R extends Replica> = (replica: R, error: ReplicaReadError) => void;

/**
 * The one way chunk bytes are read, by downloads, repair and drain: the best replica first; when
 * it sends nothing for a hedge delay (derived from the node's observed latency), the next one is
 * asked as well and the first intact answer wins, the others being cancelled. A failed replica
 * hands over to the next at once. Every outcome feeds the node's circuit breaker.
 */
export class ReplicaReader {
  constructor(
    private readonly clients: StorageNodeClients,
    /** A read that sends nothing for this long fails outright. */
    private readonly idleTimeoutMs: number,
    /**
     * Buffers for reads given `open` (the bytes are needed only until opened): a fresh buffer of a
     * chunk's size per read costs page faults and garbage collection.
     */
    private readonly buffers?: BufferPool,
  ) {}

  private get health() {
    return this.clients.health;
  }

  /** The chunk's bytes, verified against their SHA-256; or, given `open`, what it made of them. */
  read<R extends Replica>(
    chunk: ChunkReplicas<R>,
    onProblem?: ReplicaProblemListener<R>,
    options?: ReadOptions<Buffer>,
  ): Promise<Buffer>;
  read<R extends Replica, T>(
    chunk: ChunkReplicas<R>,
    onProblem: ReplicaProblemListener<R>,
    options: ReadOptions<T> & { open: (data: Buffer) => T },
  ): Promise<T>;
  read<R extends Replica, T>(
    chunk: ChunkReplicas<R>,
    onProblem: ReplicaProblemListener<R> = () => undefined,
    { patient = false, open }: ReadOptions<T> = {},
  ): Promise<T | Buffer> {
    const candidates = this.health.order(chunk.replicas);
    const idleTimeoutMs = patient ? Math.min(this.idleTimeoutMs, RECONNECT_WINDOW_MS) : this.idleTimeoutMs;
    const problems: ReplicaReadError[] = [];
    const reads: { replica: R; abort: AbortController; slow: boolean; settled: boolean }[] = [];
    let next = 0;
    let running = 0;
    let done = false;
    const openReplica = (replica: R, data: Buffer): T | Buffer => {
      if (!open) return data;
      try {
        return open(data);
      } catch (error) {
        if (createHash('sha256').update(data).digest('hex') === chunk.sha256)
          throw new ChunkUnopenableError(
            `chunk ${chunk.chunkId} matches its SHA-256 but cannot be opened: ${(error as Error).message}`,
          );
        throw new ReplicaReadError('corrupt', `chunk ${chunk.chunkId} on ${replica.address} failed authentication`);
      }
    };
    return new Promise<T | Buffer>((resolve, reject) => {
      const finish = (outcome: () => void) => {
        done = true;
        for (const read of reads) {
          if (read.settled) continue;
          read.abort.abort();
          // A replica overtaken while it sent nothing was too slow to matter: it counts against its node.
          if (read.slow) this.health.recordFailure(read.replica);
        }
        outcome();
      };
      const askNext = (): void => {
        const replica = candidates[next];
        next += 1;
        if (!replica) {
          if (running === 0 && !done) finish(() => reject(new ReplicasExhaustedError(chunk.chunkId, problems)));
          return;
        }
        running += 1;
        const read = { replica, abort: new AbortController(), slow: false, settled: false };
        reads.push(read);
        const started = Date.now();
        let firstByteMs: number | undefined;
        let hedge: NodeJS.Timeout | undefined;
        const armHedge = () => {
          clearTimeout(hedge);
          hedge = setTimeout(() => {
            if (done || read.slow) return;
            read.slow = true;
            askNext();
          }, this.health.hedgeDelayMs(replica.nodeId));
        };
        armHedge();
        const into = open && this.buffers && chunk.size <= this.buffers.bufferBytes ? this.buffers.acquire() : undefined;
        readChunk(
          this.clients.get(replica.address),
          chunk.chunkId,
          // Opening authenticates the bytes: hashing them as well would be a second pass for nothing.
          open ? { size: chunk.size } : { size: chunk.size, sha256: chunk.sha256 },
          {
            idleTimeoutMs,
            waitForReady: patient,
            signal: read.abort.signal,
            into,
            onProgress: () => {
              firstByteMs ??= Date.now() - started;
              // Bytes flow again: it is not the one holding the read up.
              read.slow = false;
              armHedge();
            },
          },
        )
          // A read another replica already won is not opened: nobody takes its result.
          .then((data) => (done ? data : openReplica(replica, data)))
          .finally(() => into && this.buffers?.release(into))
          .then(
            (data) => {
              clearTimeout(hedge);
              read.settled = true;
              running -= 1;
              this.health.recordSuccess(replica, firstByteMs ?? Date.now() - started);
              if (!done) finish(() => resolve(data));
            },
            (error: unknown) => {
              clearTimeout(hedge);
              read.settled = true;
              running -= 1;
              if (error instanceof ReadCancelledError || done) return;
              if (!(error instanceof ReplicaReadError)) {
                finish(() => reject(error instanceof Error ? error : new Error(String(error))));
                return;
              }
              problems.push(error);
              if (error.problem === 'unavailable') this.health.recordFailure(replica, error.refused);
              onProblem(replica, error);
              // The next replica is asked now, unless a read that still sends bytes is under way.
              if (reads.every((r) => r.settled || r.slow)) askNext();
            },
          );
      };
      askNext();
    });
  }
}
