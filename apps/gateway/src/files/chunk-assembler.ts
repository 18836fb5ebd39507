import { createHash, type Hash } from 'node:crypto';

export interface AssembledChunk {
  readonly data: Buffer;
  readonly sha256: string;
}

/**
 * Cuts a stream of pieces of any size into chunks of exactly `chunkSize` bytes (the last one
 * shorter), hashing each as it fills so no byte is read twice.
 */
export class ChunkAssembler {
  private buffer: Buffer;
  private filled = 0;
  private hash: Hash = createHash('sha256');

  constructor(private readonly chunkSize: number) {
    this.buffer = Buffer.allocUnsafe(chunkSize);
  }

  /** The chunks that `piece` completes (usually none or one). */
  *push(piece: Uint8Array): Generator<AssembledChunk> {
    let offset = 0;
    while (offset < piece.length) {
      const take = Math.min(this.chunkSize - this.filled, piece.length - offset);
      const part = piece.subarray(offset, offset + take);
      this.buffer.set(part, this.filled);
      this.hash.update(part);
      this.filled += take;
      offset += take;
      if (this.filled === this.chunkSize) yield this.take();
    }
  }

  /** The last, partial chunk; undefined when the stream ended on a chunk boundary. */
  flush(): AssembledChunk | undefined {
    return this.filled > 0 ? this.take() : undefined;
  }

  private take(): AssembledChunk {
    const chunk = {
      data: this.filled === this.chunkSize ? this.buffer : this.buffer.subarray(0, this.filled),
      sha256: this.hash.digest('hex'),
    };
    // A fresh buffer: the chunk just taken is still being written to the nodes.
    this.buffer = Buffer.allocUnsafe(this.chunkSize);
    this.filled = 0;
    this.hash = createHash('sha256');
    return chunk;
  }
}
