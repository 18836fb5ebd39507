/**
 * Cuts a stream of pieces of any size into chunks of exactly `chunkSize` bytes (the last one
 * shorter). Each chunk is a buffer of its own: it may still be in use while the next one fills.
 */
export class ChunkAssembler {
  private buffer: Buffer;
  private filled = 0;

  constructor(private readonly chunkSize: number) {
    this.buffer = Buffer.allocUnsafe(chunkSize);
  }

  /** The chunks that `piece` completes (usually none or one). */
  *push(piece: Uint8Array): Generator<Buffer> {
    let offset = 0;
    while (offset < piece.length) {
      const take = Math.min(this.chunkSize - this.filled, piece.length - offset);
      this.buffer.set(piece.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.chunkSize) yield this.take();
    }
  }

  /** The last, partial chunk; undefined when the stream ended on a chunk boundary. */
  flush(): Buffer | undefined {
    return this.filled > 0 ? this.take() : undefined;
  }

  private take(): Buffer {
    const chunk = this.filled === this.chunkSize ? this.buffer : this.buffer.subarray(0, this.filled);
    this.buffer = Buffer.allocUnsafe(this.chunkSize);
    this.filled = 0;
    return chunk;
  }
}
