import { createHash, randomBytes } from 'node:crypto';
import { encodedChunkBytes, TRANSFER_MESSAGE_BYTES } from '@cloudstore/chunk-transfer';
import { STORAGE_NODE_SERVICE, type storageNodeApi } from '@cloudstore/contracts';
import { loadServiceClientConstructor } from '@cloudstore/grpc';
import { MasterKeyring, masterKey } from '@cloudstore/master-key';
import { CHUNK_OVERHEAD, FileCipher } from '../encryption/file-cipher';
import { ChunkSealer } from './chunk-sealer';

describe(ChunkSealer.name, () => {
  const cipher = new FileCipher(new MasterKeyring(masterKey(randomBytes(32))));
  const fileId = '6f1de0a4-37a5-4f63-9d3e-1c7a1e0f7c11';
  const chunkSize = 2 * TRANSFER_MESSAGE_BYTES + 1000;
  const key = cipher.newDataKey();
  const start = (index: number) =>
    new ChunkSealer(index, Buffer.alloc(encodedChunkBytes(chunkSize + CHUNK_OVERHEAD)), chunkSize, (sink) =>
      cipher.chunkSealer(key, fileId, index, sink),
    );
  // The bytes the messages carry, decoded as the node decodes them.
  const putChunk = loadServiceClientConstructor(STORAGE_NODE_SERVICE).service['PutChunk'];
  const payloads = (messages: readonly Buffer[]) =>
    Buffer.concat(messages.map((m) => (putChunk?.requestDeserialize(m) as storageNodeApi.PutChunkRequest).data));

  it.each([chunkSize, 1, 70_000, TRANSFER_MESSAGE_BYTES - CHUNK_OVERHEAD])(
    'seals %i bytes given in pieces of any size into framed messages that open to them, with the SHA-256 of the sealed bytes',
    (size) => {
      const plain = randomBytes(size);
      const sut = start(3);
      for (let offset = 0; offset < size; offset += 33_333) sut.add(plain.subarray(offset, offset + 33_333));
      expect(sut.room).toBe(chunkSize - size);
      const sealed = sut.finish();
      const stored = payloads(sealed.encoded.messages);
      expect(stored).toHaveLength(size + CHUNK_OVERHEAD);
      expect(sealed.encoded.size).toBe(size + CHUNK_OVERHEAD);
      expect(sealed.sha256).toBe(createHash('sha256').update(stored).digest('hex'));
      expect(Buffer.concat(cipher.openChunk(key, fileId, 3, stored)).equals(plain)).toBe(true);
    },
  );

  it('refuses more plaintext than the chunk has room for', () => {
    const sut = start(0);
    sut.add(Buffer.alloc(chunkSize - 10));
    expect(() => sut.add(Buffer.alloc(11))).toThrow(RangeError);
  });
});
