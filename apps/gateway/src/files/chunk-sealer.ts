import { createHash } from 'node:crypto';
import { ChunkMessageWriter, type EncodedChunk } from '@cloudstore/chunk-transfer';
import type { Sealer } from '@cloudstore/master-key';
import { CHUNK_OVERHEAD } from '../encryption/file-cipher';

/**
 * A chunk as the nodes store it: sealed under the file's data key, laid out as the messages that
 * carry it to every replica, in `buffer` (pooled: given back once every write of it has ended);
 * and the SHA-256 of the sealed bytes.
 */
export interface SealedChunk {
  readonly index: number;
  readonly buffer: Buffer;
  readonly encoded: EncodedChunk;
  readonly sha256: string;
}

/**
 * One chunk of an upload, sealed as its plaintext arrives: the sealed bytes land straight in
 * `buffer`, framed as the messages that carry them (ChunkMessageWriter), and are hashed as they
 * land (still in the cache). The plaintext is never gathered: no copy of it, no buffer for it.
 */
export class ChunkSealer {
  private plainBytes = 0;
  private readonly writer: ChunkMessageWriter;
  private readonly hash = createHash('sha256');
  private readonly sealer: Sealer;

  constructor(
    readonly index: number,
    /** At least `encodedChunkBytes(chunkSize + CHUNK_OVERHEAD)` long. */
    readonly buffer: Buffer,
    private readonly chunkSize: number,
    startSealer: (sink: (bytes: Buffer) => void) => Sealer,
  ) {
    this.writer = new ChunkMessageWriter(buffer, chunkSize + CHUNK_OVERHEAD);
    this.sealer = startSealer((bytes) => {
      this.writer.append(bytes);
      this.hash.update(bytes);
    });
  }

  /** Plaintext bytes the chunk still takes. */
  get room(): number {
    return this.chunkSize - this.plainBytes;
  }

  add(plain: Uint8Array): void {
    if (plain.length > this.room) throw new RangeError(`the chunk takes ${this.room} more bytes, not ${plain.length}`);
    this.sealer.update(plain);
    this.plainBytes += plain.length;
  }

  /** Ends the chunk: nothing may be added after. */
  finish(): SealedChunk {
    this.sealer.final();
    return { index: this.index, buffer: this.buffer, encoded: this.writer.finish(), sha256: this.hash.digest('hex') };
  }
}
