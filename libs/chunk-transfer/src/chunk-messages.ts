/** Size of the gRPC messages that carry chunk bytes. */
export const TRANSFER_MESSAGE_BYTES = 1024 * 1024;

/** Tag of `PutChunkRequest.data` (field 4, length-delimited) in the protobuf wire format. */
const DATA_FIELD_TAG = (4 << 3) | 2;

function varintBytes(value: number): number {
  let bytes = 1;
  for (let rest = value >>> 7; rest > 0; rest >>>= 7) bytes += 1;
  return bytes;
}

function writeVarint(target: Buffer, offset: number, value: number): number {
  let rest = value;
  while (rest > 0x7f) {
    target[offset++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  target[offset++] = rest;
  return offset;
}

/** The bytes of each data message of a chunk of `size` bytes. */
function* messagePayloads(size: number): Generator<number> {
  for (let offset = 0; offset < size; offset += TRANSFER_MESSAGE_BYTES) yield Math.min(TRANSFER_MESSAGE_BYTES, size - offset);
}

/** Bytes a chunk of `size` bytes takes laid out as its PutChunk data messages. */
export function encodedChunkBytes(size: number): number {
  let total = 0;
  for (const payload of messagePayloads(size)) total += 1 + varintBytes(payload) + payload;
  return total;
}

/**
 * A chunk's bytes as the PutChunk messages that carry them after the header: each an encoded
 * `PutChunkRequest` holding only `data`. Encoded once, they are written as they are to every
 * replica (grpc-js would otherwise encode a copy of the chunk per replica).
 */
export interface EncodedChunk {
  readonly size: number;
  readonly messages: readonly Buffer[];
}

/**
 * Lays a chunk of at most `capacity` bytes out as its PutChunk data messages, in `target` (at
 * least `encodedChunkBytes(capacity)` long, a pooled buffer say): the bytes are appended in order
 * as they are produced, by a cipher for instance, and land in place, so encoding costs no copy of
 * its own. A chunk may end short of the capacity (the last of a stream whose length is not known):
 * its last message is then framed again for the bytes it got. The messages are views of
 * `target`: it must outlive every write of them.
 */
export class ChunkMessageWriter {
  /** Each message's payload, as a view of `target`, and where it starts there. */
  private readonly payloads: Buffer[] = [];
  private readonly starts: number[] = [];
  private current = 0;
  /** Bytes of the current payload filled. */
  private filled = 0;
  private appended = 0;

  constructor(
    private readonly target: Buffer,
    readonly capacity: number,
  ) {
    if (target.length < encodedChunkBytes(capacity))
      throw new RangeError(`a chunk of ${capacity} bytes needs ${encodedChunkBytes(capacity)}`);
    let offset = 0;
    for (const payload of messagePayloads(capacity)) {
      target[offset] = DATA_FIELD_TAG;
      const start = writeVarint(target, offset + 1, payload);
      this.starts.push(start);
      this.payloads.push(target.subarray(start, start + payload));
      offset = start + payload;
    }
  }

  /** Bytes appended so far. */
  get size(): number {
    return this.appended;
  }

  /** Appends the chunk's next bytes. */
  append(bytes: Uint8Array): void {
    if (this.appended + bytes.length > this.capacity)
      throw new RangeError(`the chunk holds ${this.capacity} bytes; ${this.appended + bytes.length} were appended`);
    let taken = 0;
    while (taken < bytes.length) {
      const payload = this.payloads[this.current];
      const take = Math.min(payload.length - this.filled, bytes.length - taken);
      payload.set(bytes.subarray(taken, taken + take), this.filled);
      taken += take;
      this.filled += take;
      if (this.filled === payload.length) {
        this.current += 1;
        this.filled = 0;
      }
    }
    this.appended += bytes.length;
  }

  /** The messages of the bytes appended. */
  finish(): EncodedChunk {
    const messages: Buffer[] = [];
    for (let i = 0; i < this.current; i += 1) {
      const start = this.starts[i];
      messages.push(this.target.subarray(start - 1 - varintBytes(this.payloads[i].length), start + this.payloads[i].length));
    }
    if (this.filled > 0) {
      // A shorter length frames in no more bytes than the full one did: the header is written
      // again so that it ends where the payload starts.
      const start = this.starts[this.current];
      const headerStart = start - 1 - varintBytes(this.filled);
      this.target[headerStart] = DATA_FIELD_TAG;
      writeVarint(this.target, headerStart + 1, this.filled);
      messages.push(this.target.subarray(headerStart, start + this.filled));
    }
    return { size: this.appended, messages };
  }
}

/** `data` as its PutChunk data messages, in a buffer of their own (one copy of the bytes). */
export function encodeChunk(data: Uint8Array): EncodedChunk {
  const writer = new ChunkMessageWriter(Buffer.allocUnsafe(encodedChunkBytes(data.length)), data.length);
  writer.append(data);
  return writer.finish();
}
