import { randomBytes } from 'node:crypto';
import { MasterKeyring, masterKey, SealBrokenError, UnknownMasterKeyError, wrapDataKey } from '@cloudstore/master-key';
import { CHUNK_OVERHEAD, FileCipher } from './file-cipher';

describe(FileCipher.name, () => {
  const master = masterKey(randomBytes(32));
  const sut = new FileCipher(new MasterKeyring(master));
  const fileId = '0b6f6c57-6a0e-4a43-9a39-3a3c1bde6b1f';
  const userId = '4d0c2a39-1b4e-4f0a-8a8e-2f7b0f5d9c11';
  const sealChunk = (key: Buffer, id: string, index: number, plain: Buffer) => {
    const pieces: Buffer[] = [];
    const sealer = sut.chunkSealer(key, id, index, (bytes) => pieces.push(Buffer.from(bytes)));
    sealer.update(plain.subarray(0, 1000));
    sealer.update(plain.subarray(1000));
    sealer.final();
    return Buffer.concat(pieces);
  };
  /** A data key as an upload stores it: wrapped by the user's key, which the master key wraps. */
  const stored = (cipher: FileCipher, key: Buffer, id = fileId) => {
    const userKey = cipher.proposeUserKey(userId);
    return { wrappedDataKey: cipher.wrapDataKey(userKey, id, key), masterKeyId: '', userKey, wrappedByUserKey: true };
  };

  it('seals a chunk into ciphertext CHUNK_OVERHEAD bytes longer, and opens it again through the key hierarchy', () => {
    const key = sut.newDataKey();
    // Larger than the cipher's piece, so the sealed bytes arrive in several.
    const plain = randomBytes(300_000);
    const sealed = sealChunk(key, fileId, 3, plain);
    expect(sealed).toHaveLength(plain.length + CHUNK_OVERHEAD);
    expect(sealed.includes(plain.subarray(0, 64))).toBe(false);
    const unwrapped = sut.unwrapDataKey(fileId, stored(sut, key));
    expect(Buffer.concat(sut.openChunk(unwrapped, fileId, 3, sealed)).equals(plain)).toBe(true);
  });

  it('wraps a user key by the current master key, bound to the user, holding no key in the clear', () => {
    const userKey = sut.proposeUserKey(userId);
    expect(userKey).toMatchObject({ userId, masterKeyId: master.id });
    expect(userKey.wrappedKey).toHaveLength(32 + CHUNK_OVERHEAD);
    const key = sut.newDataKey();
    const wrapped = sut.wrapDataKey(userKey, fileId, key);
    expect(wrapped.includes(key)).toBe(false);
    const forOther = { ...userKey, userId: 'another-user' };
    expect(() =>
      sut.unwrapDataKey(fileId, { wrappedDataKey: wrapped, masterKeyId: '', userKey: forOther, wrappedByUserKey: true }),
    ).toThrow(SealBrokenError);
  });

  it('still opens a data key that the master key wraps directly (files stored before user keys)', () => {
    const key = sut.newDataKey();
    const legacy = {
      wrappedDataKey: wrapDataKey(master.key, fileId, key),
      masterKeyId: master.id,
      userKey: undefined,
      wrappedByUserKey: false,
    };
    expect(sut.unwrapDataKey(fileId, legacy).equals(key)).toBe(true);
    expect(() => sut.unwrapDataKey('another-file', legacy)).toThrow(SealBrokenError);
  });

  it('opens what the previous master key wrapped while it is in the ring, and says so once it is gone', () => {
    const previous = masterKey(randomBytes(32));
    const before = new FileCipher(new MasterKeyring(previous));
    const key = before.newDataKey();
    const wrapped = stored(before, key);
    const during = new FileCipher(new MasterKeyring(master, previous));
    expect(during.unwrapDataKey(fileId, wrapped).equals(key)).toBe(true);
    expect(during.proposeUserKey(userId).masterKeyId).toBe(master.id);
    expect(() => sut.unwrapDataKey(fileId, wrapped)).toThrow(
      new UnknownMasterKeyError(
        `the key of user ${userId} was wrapped under master key ${previous.id}, this service has ${master.id}`,
      ),
    );
  });

  it('seals the same bytes differently every time (a fresh nonce each)', () => {
    const key = sut.newDataKey();
    const plain = Buffer.alloc(64);
    expect(sealChunk(key, fileId, 0, plain).equals(sealChunk(key, fileId, 0, plain))).toBe(false);
  });

  it('refuses a flipped bit, a chunk moved to another index or file, and a wrapped key of another file', () => {
    const key = sut.newDataKey();
    const sealed = sealChunk(key, fileId, 0, Buffer.from('hello, world'));
    const flipped = Buffer.from(sealed);
    flipped[15] = (flipped[15] ?? 0) ^ 1;
    expect(() => sut.openChunk(key, fileId, 0, flipped)).toThrow(SealBrokenError);
    expect(() => sut.openChunk(key, fileId, 1, sealed)).toThrow(SealBrokenError);
    expect(() => sut.openChunk(key, 'another-file', 0, sealed)).toThrow(SealBrokenError);
    expect(() => sut.openChunk(key, fileId, 0, sealed.subarray(0, 10))).toThrow(SealBrokenError);
    expect(() => sut.unwrapDataKey('another-file', stored(sut, key))).toThrow(SealBrokenError);
  });

  it('seals an empty chunk too', () => {
    const key = sut.newDataKey();
    expect(Buffer.concat(sut.openChunk(key, fileId, 0, sealChunk(key, fileId, 0, Buffer.alloc(0))))).toHaveLength(0);
  });
});
