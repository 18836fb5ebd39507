import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createFileOnce, syncDirectory } from '@cloudstore/durable-files';
import {
  ChecksumMismatchError,
  DomainError,
  InvalidArgumentError,
  NotFoundError,
  StorageUnavailableError,
} from '@cloudstore/contracts';

/** Chunk ids are opaque to the node but become file names: only this alphabet is accepted. */
const CHUNK_ID_PATTERN = /^[A-Za-z0-9_-]{8,128}$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;
/** Holds the data directory's identity (a UUID). */
export const DISK_ID_FILE = 'disk-id';

export interface ChunkUsage {
  readonly usedBytes: number;
  readonly chunkCount: number;
}

export interface StoredChunk {
  readonly chunkId: string;
  readonly size: number;
}

export function assertChunkId(chunkId: string): void {
  if (!CHUNK_ID_PATTERN.test(chunkId)) throw new InvalidArgumentError('chunk_id must be 8-128 characters of [A-Za-z0-9_-]');
}

export class ChunkNotFoundError extends NotFoundError {
  override name = 'ChunkNotFoundError';
  constructor(chunkId: string) {
    super(`chunk ${chunkId} is not on this node`);
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * Chunks on local disk, one file each under `chunks/<first two chars>/<id>`. A chunk is written
 * to `tmp/`, fsynced, verified against its SHA-256 and only then renamed into place (and the
 * directory fsynced), so a reader sees a whole, verified chunk or none: a torn write stays a
 * temp file, and temp files are swept at start.
 */
export class ChunkStore {
  private readonly chunksDir: string;
  private readonly tmpDir: string;
  private usedBytes = 0;
  /** Bytes of writes in progress, so parallel writes cannot together pass the capacity. */
  private writingBytes = 0;
  private chunkCount = 0;
  private diskIdentity = '';
  /** Writes under way, so that a stopping node can wait until each has ended. */
  private readonly writes = new Set<Promise<StoredChunk>>();

  constructor(
    readonly rootDir: string,
    private readonly capacityBytes = 0,
  ) {
    this.chunksDir = join(rootDir, 'chunks');
    this.tmpDir = join(rootDir, 'tmp');
  }

  /**
   * Creates the layout, drops temp files of interrupted writes and counts what is stored. A new
   * (or wiped) data directory gets a new disk identity: the metadata then knows that nothing it
   * placed here before is here any more.
   */
  async open(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.chunksDir, { recursive: true });
    const identityFile = join(this.rootDir, DISK_ID_FILE);
    await createFileOnce(identityFile, randomUUID(), 0o644);
    this.diskIdentity = (await readFile(identityFile, 'utf8')).trim();
    let usedBytes = 0;
    let chunkCount = 0;
    for await (const chunk of this.walk()) {
      usedBytes += chunk.size;
      chunkCount += 1;
    }
    this.usedBytes = usedBytes;
    this.chunkCount = chunkCount;
  }

  /** Identifies this data directory, made at its creation; a wiped disk comes back with another. */
  get diskId(): string {
    return this.diskIdentity;
  }

  usage(): ChunkUsage {
    return { usedBytes: this.usedBytes, chunkCount: this.chunkCount };
  }

  /** Bytes this node offers: the configured capacity, or what its disk holds (used + free). */
  async capacity(): Promise<number> {
    if (this.capacityBytes > 0) return this.capacityBytes;
    const fs = await statfs(this.rootDir);
    return this.usedBytes + fs.bavail * fs.bsize;
  }

  /**
   * Stores a chunk whose bytes arrive from `data`. Resolves once the chunk is durable; rejects,
   * leaving nothing visible, when the bytes do not match `size` and `sha256`.
   */
  async write(
    chunkId: string,
    expected: { sha256: string; size: number },
    data: AsyncIterable<Uint8Array>,
  ): Promise<StoredChunk> {
    assertChunkId(chunkId);
    if (!SHA256_PATTERN.test(expected.sha256)) throw new InvalidArgumentError('sha256 must be 64 lowercase hex digits');
    if (!Number.isSafeInteger(expected.size) || expected.size < 0)
      throw new InvalidArgumentError('size must be a non-negative integer');
    if (this.capacityBytes > 0 && this.usedBytes + this.writingBytes + expected.size > this.capacityBytes) {
      throw new StorageUnavailableError('storage node is full');
    }
    this.writingBytes += expected.size;
    const writing = this.writeChunk(chunkId, expected, data);
    this.writes.add(writing);
    try {
      return await writing;
    } finally {
      this.writes.delete(writing);
      this.writingBytes -= expected.size;
    }
  }

  /**
   * Resolves once every write under way has ended: stored whole, or failed with its temp file
   * removed (a cancelled call ends its write). A stopping node waits for this before it exits.
   */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }

  private async writeChunk(
    chunkId: string,
    expected: { sha256: string; size: number },
    data: AsyncIterable<Uint8Array>,
  ): Promise<StoredChunk> {
    const tmpPath = join(this.tmpDir, `${chunkId}.${randomBytes(6).toString('hex')}`);
    const file = await open(tmpPath, 'wx', 0o600);
    try {
      const hash = createHash('sha256');
      let size = 0;
      for await (const piece of data) {
        size += piece.length;
        if (size > expected.size)
          throw new InvalidArgumentError(`chunk ${chunkId} is larger than its declared ${expected.size} bytes`);
        hash.update(piece);
        // A write may take fewer bytes than given (a disk filling up): write until all are taken.
        for (let offset = 0; offset < piece.length;) {
          const { bytesWritten } = await file.write(piece, offset, piece.length - offset);
          if (bytesWritten === 0) throw new Error('the disk took no more bytes');
          offset += bytesWritten;
        }
      }
      if (size !== expected.size) {
        throw new InvalidArgumentError(`chunk ${chunkId} ended after ${size} of its declared ${expected.size} bytes`);
      }
      const sha256 = hash.digest('hex');
      if (sha256 !== expected.sha256) throw new ChecksumMismatchError(`chunk ${chunkId} does not match its SHA-256`);
      await file.sync();
      await file.close();
      const shardDir = this.shardDir(chunkId);
      await mkdir(shardDir, { recursive: true });
      const finalPath = join(shardDir, chunkId);
      const previousSize = await stat(finalPath).then(
        (s) => s.size,
        () => undefined,
      );
      await rename(tmpPath, finalPath);
      await syncDirectory(shardDir);
      this.usedBytes += size - (previousSize ?? 0);
      if (previousSize === undefined) this.chunkCount += 1;
      return { chunkId, size };
    } catch (error) {
      await file.close().catch(() => undefined);
      await unlink(tmpPath).catch(() => undefined);
      throw error instanceof DomainError ? error : new StorageUnavailableError(`cannot write chunk: ${(error as Error).message}`);
    }
  }

  /** A stream of the chunk's bytes, and its size. */
  async read(chunkId: string, highWaterMark = 1024 * 1024): Promise<{ size: number; stream: ReadStream }> {
    const path = this.pathOf(chunkId);
    try {
      const file = await open(path, 'r');
      try {
        const { size } = await file.stat();
        return { size, stream: createReadStream('', { fd: file, highWaterMark }) };
      } catch (error) {
        await file.close();
        throw error;
      }
    } catch (error) {
      if (isNotFound(error)) throw new ChunkNotFoundError(chunkId);
      throw error;
    }
  }

  async stat(chunkId: string, computeSha256: boolean): Promise<{ size: number; sha256?: string }> {
    const path = this.pathOf(chunkId);
    try {
      const { size } = await stat(path);
      if (!computeSha256) return { size };
      const hash = createHash('sha256');
      await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), hash);
      return { size, sha256: hash.digest('hex') };
    } catch (error) {
      if (isNotFound(error)) throw new ChunkNotFoundError(chunkId);
      throw error;
    }
  }

  /** Removes a chunk; false when it was not there (deletes are idempotent). */
  async delete(chunkId: string): Promise<boolean> {
    const path = this.pathOf(chunkId);
    let size: number;
    try {
      size = (await stat(path)).size;
      await unlink(path);
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    await syncDirectory(this.shardDir(chunkId));
    this.usedBytes -= size;
    this.chunkCount -= 1;
    return true;
  }

  /** Every stored chunk, shard by shard. */
  async *walk(): AsyncGenerator<StoredChunk> {
    let shards: string[];
    try {
      shards = (await readdir(this.chunksDir)).sort();
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    for (const shard of shards) {
      let names: string[];
      try {
        names = (await readdir(join(this.chunksDir, shard))).sort();
      } catch (error) {
        if (isNotFound(error)) continue;
        throw error;
      }
      for (const chunkId of names) {
        try {
          const { size } = await stat(join(this.chunksDir, shard, chunkId));
          yield { chunkId, size };
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
    }
  }

  private shardDir(chunkId: string): string {
    return join(this.chunksDir, chunkId.slice(0, 2));
  }

  private pathOf(chunkId: string): string {
    assertChunkId(chunkId);
    return join(this.shardDir(chunkId), chunkId);
  }
}
