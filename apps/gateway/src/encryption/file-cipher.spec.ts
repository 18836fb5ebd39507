import { randomBytes } from 'node:crypto';
import { masterKey, SealBrokenError, UnknownMasterKeyError } from '@cloudstore/master-key';
import { CHUNK_OVERHEAD, FileCipher } from './file-cipher';

describe(FileCipher.name, () => {
  const sut = new FileCipher(masterKey(randomBytes(32)));
  const fileId = '0b6f6c57-6a0e-4a43-9a39-3a3c1bde6b1f';
  const sealChunk = (key: Buffer, id: string, index: number, plain: Buffer) => {
    const pieces: Buffer[] = [];
    const sealer = sut.chunkSealer(key, id, index, (bytes) => pieces.push(Buffer.from(bytes)));
    sealer.update(plain.subarray(0, 1000));
    sealer.update(plain.subarray(1000));
    sealer.final();
    return Buffer.concat(pieces);
  };

  it('seals a chunk into ciphertext CHUNK_OVERHEAD bytes longer, and opens it again', () => {
    const { key, wrapped } = sut.newDataKey(fileId);
    // Larger than the cipher's piece, so the sealed bytes arrive in several.
    const plain = randomBytes(300_000);
    const sealed = sealChunk(key, fileId, 3, plain);
    expect(sealed).toHaveLength(plain.length + CHUNK_OVERHEAD);
    expect(sealed.includes(plain.subarray(0, 64))).toBe(false);
    const unwrapped = sut.unwrapDataKey(fileId, wrapped, sut.masterKeyId);
    expect(Buffer.concat(sut.openChunk(unwrapped, fileId, 3, sealed)).equals(plain)).toBe(true);
  });

  it('seals the same bytes differently every time (a fresh nonce each)', () => {
    const { key } = sut.newDataKey(fileId);
    const plain = Buffer.alloc(64);
    expect(sealChunk(key, fileId, 0, plain).equals(sealChunk(key, fileId, 0, plain))).toBe(false);
  });

  it('refuses a flipped bit, a chunk moved to another index or file, and a wrapped key of another file', () => {
    const { key, wrapped } = sut.newDataKey(fileId);
    const sealed = sealChunk(key, fileId, 0, Buffer.from('hello, world'));
    const flipped = Buffer.from(sealed);
    flipped[15] = (flipped[15] ?? 0) ^ 1;
    expect(() => sut.openChunk(key, fileId, 0, flipped)).toThrow(SealBrokenError);
    expect(() => sut.openChunk(key, fileId, 1, sealed)).toThrow(SealBrokenError);
    expect(() => sut.openChunk(key, 'another-file', 0, sealed)).toThrow(SealBrokenError);
    expect(() => sut.openChunk(key, fileId, 0, sealed.subarray(0, 10))).toThrow(SealBrokenError);
    expect(() => sut.unwrapDataKey('another-file', wrapped, sut.masterKeyId)).toThrow(SealBrokenError);
  });

  it('says so when a file was sealed under another master key', () => {
    const other = new FileCipher(masterKey(randomBytes(32)));
    const { wrapped } = other.newDataKey(fileId);
    expect(() => sut.unwrapDataKey(fileId, wrapped, other.masterKeyId)).toThrow(UnknownMasterKeyError);
  });

  it('seals an empty chunk too', () => {
    const { key } = sut.newDataKey(fileId);
    expect(Buffer.concat(sut.openChunk(key, fileId, 0, sealChunk(key, fileId, 0, Buffer.alloc(0))))).toHaveLength(0);
  });
});
