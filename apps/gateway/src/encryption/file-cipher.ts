import { randomBytes } from 'node:crypto';
import type { filesApi } from '@cloudstore/contracts';
import {
  type MasterKeyring,
  newUserKey,
  open,
  openPieces,
  SEAL_OVERHEAD,
  seal,
  Sealer,
  UnknownMasterKeyError,
  unwrapDataKey,
  unwrapUserKey,
  wrapDataKey,
} from '@cloudstore/master-key';

const DATA_KEY_BYTES = 32;

/** Bytes a sealed chunk carries beyond the file's own: its nonce and its authentication tag. */
export const CHUNK_OVERHEAD = SEAL_OVERHEAD;

/** How a file's data key is wrapped, as its download plan gives it. */
export type WrappedDataKey = Pick<filesApi.DownloadPlan, 'wrappedDataKey' | 'masterKeyId' | 'userKey' | 'wrappedByUserKey'>;

/**
 * Encryption at rest, envelope style (the key hierarchy is libs/master-key's envelope): every
 * file has its own random AES-256 data key, stored only wrapped (AES-256-GCM) by its owner's key,
 * which is stored only wrapped by the master key; each chunk is sealed with AES-256-GCM under the
 * data key with a random nonce. The file id is bound into the wrapped data key, and the file id
 * and chunk index into each chunk, so nothing can be swapped between files or positions
 * unnoticed. Storage nodes and the database only ever hold ciphertext; only the gateway (and the
 * rotation command) holds the master keys, MASTER_KEY and during a rotation MASTER_KEY_PREVIOUS.
 */
export class FileCipher {
  constructor(private readonly keyring: MasterKeyring) {}

  /** The master key new user keys are wrapped by. */
  get masterKeyId(): string {
    return this.keyring.current.id;
  }

  /** A fresh key for the user, wrapped, which the metadata service keeps if the user has none yet. */
  proposeUserKey(userId: string): filesApi.UserKey {
    return { userId, wrappedKey: newUserKey(this.keyring.current, userId).wrapped, masterKeyId: this.masterKeyId };
  }

  /** The plaintext key of a new file, kept in memory only; wrapped once its owner's key is known. */
  newDataKey(): Buffer {
    return randomBytes(DATA_KEY_BYTES);
  }

  /** The data key wrapped by its owner's key, as the metadata service handed that out. */
  wrapDataKey(userKey: filesApi.UserKey, fileId: string, dataKey: Buffer): Buffer {
    return wrapDataKey(this.unwrapUserKey(userKey), fileId, dataKey);
  }

  /**
   * The file's data key: wrapped by its owner's key, or (files stored before user keys) by the
   * master key directly. UnknownMasterKeyError when a key this gateway lacks wrapped it.
   */
  unwrapDataKey(fileId: string, key: WrappedDataKey): Buffer {
    if (key.wrappedByUserKey) {
      if (!key.userKey) throw new UnknownMasterKeyError(`file ${fileId} has no owner's key to unwrap its data key`);
      return unwrapDataKey(this.unwrapUserKey(key.userKey), fileId, key.wrappedDataKey);
    }
    return unwrapDataKey(this.keyring.get(key.masterKeyId, `the data key of file ${fileId}`).key, fileId, key.wrappedDataKey);
  }

  /**
   * Seals a chunk as its plaintext arrives, handing the sealed bytes (CHUNK_OVERHEAD more than the
   * plaintext) to `sink` in order as they are produced.
   */
  chunkSealer(dataKey: Buffer, fileId: string, index: number, sink: (bytes: Buffer) => void): Sealer {
    return new Sealer(dataKey, chunkContext(fileId, index), sink);
  }

  /** A sealed chunk's plaintext, authenticated, as the pieces the cipher produced. */
  openChunk(dataKey: Buffer, fileId: string, index: number, sealed: Uint8Array): Buffer[] {
    return openPieces(dataKey, sealed, chunkContext(fileId, index));
  }

  /**
   * Bytes of a resumable upload past its last whole chunk, kept between two of its requests:
   * sealed under the file's data key like its chunks, bound to the file and the offset they start at.
   */
  sealUploadTail(dataKey: Buffer, fileId: string, offset: number, plain: Uint8Array): Buffer {
    return seal(dataKey, plain, uploadTailContext(fileId, offset));
  }

  openUploadTail(dataKey: Buffer, fileId: string, offset: number, sealed: Uint8Array): Buffer {
    return open(dataKey, sealed, uploadTailContext(fileId, offset));
  }

  private unwrapUserKey(userKey: filesApi.UserKey): Buffer {
    return unwrapUserKey(this.keyring, userKey.userId, userKey.wrappedKey, userKey.masterKeyId);
  }
}

function chunkContext(fileId: string, index: number): string {
  return `chunk ${index} of file ${fileId}`;
}

function uploadTailContext(fileId: string, offset: number): string {
  return `upload tail at ${offset} of file ${fileId}`;
}
