import { createHash, type Hash, timingSafeEqual } from 'node:crypto';
import { InvalidArgumentError } from '@cloudstore/contracts';

/**
 * The body does not match its checksum. Not a DomainError: UploadService keeps a resumable
 * upload's progress through it (the caller rewinds), where a CHECKSUM_MISMATCH would drop the upload.
 */
export class BodyChecksumError extends Error {
  override readonly name = 'BodyChecksumError';
  constructor() {
    super('the request body does not match its checksum');
  }
}

export interface ChunkAlignedBodyOptions {
  /** Where the upload stands: a whole-chunk offset. */
  readonly start: number;
  /** Bytes kept from earlier requests, past `start`, that go before the body's. */
  readonly tail: Buffer;
  readonly chunkSize: number;
  /** The upload's whole size. */
  readonly size: number;
  /** SHA-256 the body's bytes (not the tail's) must have: Upload-Checksum. */
  readonly checksum?: Buffer;
}

/**
 * The bytes of one tus request, given on only up to whole chunks of the upload: what is past the
 * last whole chunk is held back (`remainder`), unless it ends the upload. A chunk is sealed and
 * stored whole, so the bytes of a chunk that a request ends inside wait for the next request.
 * With a checksum the body is checked at its end, before its last bytes are given on: a part
 * whose bytes are wrong never ends the upload, and the caller rewinds the chunks stored from it.
 */
export class ChunkAlignedBody {
  private readonly held: Buffer[] = [];
  private heldBytes = 0;
  /** The offset up to which bytes were given on. */
  private givenUpTo: number;
  private readonly hash: Hash | undefined;

  constructor(
    private readonly source: AsyncIterable<Uint8Array>,
    private readonly options: ChunkAlignedBodyOptions,
  ) {
    this.givenUpTo = options.start;
    if (options.tail.length > 0) this.hold(options.tail);
    this.hash = options.checksum && createHash('sha256');
  }

  /** The offset the bytes given on end at: a whole-chunk boundary, or the upload's size. */
  get alignedEnd(): number {
    return this.givenUpTo;
  }

  /** The bytes received past `alignedEnd` (after the pieces ended, or failed). */
  get remainder(): Buffer {
    return Buffer.concat(this.held, this.heldBytes);
  }

  async *pieces(): AsyncGenerator<Uint8Array> {
    for await (const piece of this.source) {
      if (this.givenUpTo + this.heldBytes + piece.length > this.options.size)
        throw new InvalidArgumentError(`More bytes arrived than the ${this.options.size} declared`);
      this.hash?.update(piece);
      this.hold(piece);
      // Every whole chunk is given on but the upload's last one, which waits for the checksum.
      const end = this.givenUpTo + this.heldBytes;
      const upTo = Math.min(end - (end % this.options.chunkSize), this.lastChunkStart);
      if (upTo > this.givenUpTo) yield* this.give(upTo - this.givenUpTo);
    }
    if (this.hash && this.options.checksum && !timingSafeEqual(this.hash.digest(), this.options.checksum))
      throw new BodyChecksumError();
    if (this.givenUpTo + this.heldBytes === this.options.size) yield* this.give(this.heldBytes);
  }

  /** Where the chunk holding the upload's last byte starts. */
  private get lastChunkStart(): number {
    const { size, chunkSize } = this.options;
    return size === 0 ? 0 : size - 1 - ((size - 1) % chunkSize);
  }

  private hold(piece: Uint8Array): void {
    this.held.push(Buffer.from(piece.buffer, piece.byteOffset, piece.length));
    this.heldBytes += piece.length;
  }

  /** The first `count` held bytes, as they were received (no copy). */
  private *give(count: number): Generator<Uint8Array> {
    let left = count;
    while (left > 0) {
      const first = this.held[0];
      const piece = first.length <= left ? first : first.subarray(0, left);
      if (piece === first) this.held.shift();
      else this.held[0] = first.subarray(left);
      left -= piece.length;
      this.heldBytes -= piece.length;
      this.givenUpTo += piece.length;
      yield piece;
    }
  }
}
