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
 * Lays a chunk of a known size out as its PutChunk data messages, in `target` (at least
 * `encodedChunkBytes(size)` long, a pooled buffer say): the bytes are appended in order as they
 * are produced, by a cipher for instance, and land in place, so encoding costs no copy of its own.
 * The messages are views of `target`: it must outlive every write of them.
 */
export class ChunkMessageWriter {
  private readonly messages: Buffer[] = [];
  /** Each message's payload, as a view of `target`. */
  private readonly payloads: Buffer[] = [];
  private current = 0;
  /** Bytes of the current payload filled. */
  private filled = 0;
  private written = 0;

  constructor(
    target: Buffer,
    readonly size: number,
  ) {
    if (target.length < encodedChunkBytes(size))
      throw new RangeError(`a chunk of ${size} bytes needs ${encodedChunkBytes(size)}`);
    let offset = 0;
    for (const payload of messagePayloads(size)) {
      target[offset] = DATA_FIELD_TAG;
      const start = writeVarint(target, offset + 1, payload);
      this.messages.push(target.subarray(offset, start + payload));
      this.payloads.push(target.subarray(start, start + payload));
      offset = start + payload;
    }
  }

  /** Appends the chunk's next bytes. */
  append(bytes: Uint8Array): void {
    if (this.written + bytes.length > this.size)
      throw new RangeError(`the chunk is ${this.size} bytes; ${this.written + bytes.length} were appended`);
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
    this.written += bytes.length;
  }

  /** The messages, once every byte of the chunk was appended. */
  finish(): EncodedChunk {
    if (this.written !== this.size) throw new RangeError(`the chunk is ${this.size} bytes; ${this.written} were appended`);
    return { size: this.size, messages: this.messages };
  }
}

/** `data` as its PutChunk data messages, in a buffer of their own (one copy of the bytes). */
export function encodeChunk(data: Uint8Array): EncodedChunk {
  const writer = new ChunkMessageWriter(Buffer.allocUnsafe(encodedChunkBytes(data.length)), data.length);
  writer.append(data);
  return writer.finish();
}
