/**
 * Cuts a stream of pieces of any size into chunks of exactly `chunkSize` bytes (the last one
 * shorter), in one buffer reused for every chunk: a chunk handed out is valid until the next
 * `push` or `flush` goes on, so its user consumes it (seals it, say) before asking for more.
 */
export class ChunkAssembler {
  private readonly buffer: Buffer;
  private filled = 0;

  constructor(chunkSize: number) {
    this.buffer = Buffer.allocUnsafe(chunkSize);
  }

  /** The chunks that `piece` completes (usually none or one). */
  *push(piece: Uint8Array): Generator<Buffer> {
    let offset = 0;
    while (offset < piece.length) {
      const take = Math.min(this.buffer.length - this.filled, piece.length - offset);
      this.buffer.set(piece.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.buffer.length) yield this.take();
    }
  }

  /** The last, partial chunk; undefined when the stream ended on a chunk boundary. */
  flush(): Buffer | undefined {
    return this.filled > 0 ? this.take() : undefined;
  }

  private take(): Buffer {
    const chunk = this.buffer.subarray(0, this.filled);
    this.filled = 0;
    return chunk;
  }
}
