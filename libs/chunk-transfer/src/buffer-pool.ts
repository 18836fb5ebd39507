/**
 * Buffers of one size, kept for reuse. A fresh buffer of several MiB per chunk costs page faults
 * as it is filled and drives the garbage collector (V8 counts it as external memory), on every
 * chunk; reused ones cost neither. At most `maxIdle` are kept while unused.
 */
export class BufferPool {
  private readonly idle: Buffer[] = [];

  constructor(
    readonly bufferBytes: number,
    private readonly maxIdle: number,
  ) {}

  acquire(): Buffer {
    return this.idle.pop() ?? Buffer.allocUnsafeSlow(this.bufferBytes);
  }

  /** Gives a buffer back once nothing uses it any more (every write of it has ended). */
  release(buffer: Buffer): void {
    if (buffer.length !== this.bufferBytes) throw new RangeError(`a buffer of ${buffer.length} bytes is not of this pool`);
    if (this.idle.length < this.maxIdle && !this.idle.includes(buffer)) this.idle.push(buffer);
  }
}
