import { randomBytes } from 'node:crypto';
import { STORAGE_NODE_SERVICE, type storageNodeApi } from '@cloudstore/contracts';
import { loadServiceClientConstructor } from '@cloudstore/grpc';
import { ChunkMessageWriter, encodeChunk, encodedChunkBytes, TRANSFER_MESSAGE_BYTES } from './chunk-messages';

describe('chunk messages', () => {
  // The service's own protobuf codec, as the node decodes what the gateway sends.
  const putChunk = loadServiceClientConstructor(STORAGE_NODE_SERVICE).service['PutChunk'];
  const decode = (message: Buffer) => putChunk?.requestDeserialize(message) as storageNodeApi.PutChunkRequest;
  const encode = (request: Partial<storageNodeApi.PutChunkRequest>) => putChunk?.requestSerialize(request);

  it.each([0, 1, 127, 128, 100_000, TRANSFER_MESSAGE_BYTES, TRANSFER_MESSAGE_BYTES + 1, 4 * TRANSFER_MESSAGE_BYTES + 28])(
    'lays %i bytes out as the very messages protobuf encodes, each at most TRANSFER_MESSAGE_BYTES of data',
    (size) => {
      const data = randomBytes(size);
      const chunk = encodeChunk(data);
      expect(chunk.size).toBe(size);
      expect(chunk.messages).toHaveLength(Math.ceil(size / TRANSFER_MESSAGE_BYTES));
      expect(chunk.messages.reduce((total, m) => total + m.length, 0)).toBe(encodedChunkBytes(size));
      chunk.messages.forEach((message, i) => {
        const piece = data.subarray(i * TRANSFER_MESSAGE_BYTES, (i + 1) * TRANSFER_MESSAGE_BYTES);
        expect(message.equals(encode({ data: piece }))).toBe(true);
        expect(Buffer.from(decode(message).data).equals(piece)).toBe(true);
      });
    },
  );

  it('lands bytes appended in pieces of any size in place, across message boundaries, in a larger buffer', () => {
    const size = 2 * TRANSFER_MESSAGE_BYTES + 5000;
    const data = randomBytes(size);
    const target = Buffer.alloc(encodedChunkBytes(size) + 100);
    const writer = new ChunkMessageWriter(target, size);
    for (let offset = 0; offset < size; offset += 65_537) writer.append(data.subarray(offset, offset + 65_537));
    const { messages } = writer.finish();
    expect(messages.every((m) => m.buffer === target.buffer)).toBe(true);
    expect(Buffer.concat(messages.map((m) => Buffer.from(decode(m).data))).equals(data)).toBe(true);
  });

  it.each([1, 127, 128, 5000, TRANSFER_MESSAGE_BYTES, TRANSFER_MESSAGE_BYTES + 200, 3 * TRANSFER_MESSAGE_BYTES - 1])(
    'frames a chunk that ends at %i bytes, short of its capacity, as protobuf encodes that many bytes',
    (size) => {
      const capacity = 3 * TRANSFER_MESSAGE_BYTES + 28;
      const data = randomBytes(size);
      const writer = new ChunkMessageWriter(Buffer.alloc(encodedChunkBytes(capacity)), capacity);
      for (let offset = 0; offset < size; offset += 40_000) writer.append(data.subarray(offset, offset + 40_000));
      const chunk = writer.finish();
      expect(chunk.size).toBe(size);
      expect(Buffer.concat(chunk.messages).equals(Buffer.concat(encodeChunk(data).messages))).toBe(true);
    },
  );

  it('refuses a buffer too small and more bytes than the chunk holds', () => {
    expect(() => new ChunkMessageWriter(Buffer.alloc(10), 10)).toThrow(RangeError);
    const writer = new ChunkMessageWriter(Buffer.alloc(encodedChunkBytes(10)), 10);
    writer.append(Buffer.alloc(6));
    expect(() => writer.append(Buffer.alloc(5))).toThrow(/11 were appended/);
    writer.append(Buffer.alloc(4));
    expect(writer.finish().size).toBe(10);
  });
});
