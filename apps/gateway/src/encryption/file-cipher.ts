import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { MasterKey } from './master-key';

const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;

/** Bytes a sealed chunk carries beyond the file's own: its nonce and its authentication tag. */
export const CHUNK_OVERHEAD = NONCE_BYTES + TAG_BYTES;

/** The bytes failed authentication: they, or the key, are not what sealed them. */
export class SealBrokenError extends Error {
  override name = 'SealBrokenError';
}

/** A file was sealed under another master key than the one this gateway has. */
export class UnknownMasterKeyError extends Error {
  override name = 'UnknownMasterKeyError';
}

/** nonce ‖ ciphertext ‖ tag, bound to `context` as additional data. */
function seal(key: Buffer, plain: Uint8Array, context: string): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context));
  const sealed = Buffer.allocUnsafe(plain.length + CHUNK_OVERHEAD);
  nonce.copy(sealed, 0);
  let offset = NONCE_BYTES + cipher.update(plain).copy(sealed, NONCE_BYTES);
  offset += cipher.final().copy(sealed, offset);
  cipher.getAuthTag().copy(sealed, offset);
  return sealed;
}

function open(key: Buffer, sealed: Uint8Array, context: string): Buffer {
  if (sealed.length < CHUNK_OVERHEAD) throw new SealBrokenError('sealed data is shorter than its nonce and tag');
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
  const decipher = createDecipheriv(ALGORITHM, key, bytes.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new SealBrokenError(`${context} failed authentication`);
  }
}

/** A file's own key, in the clear (kept in memory only) and wrapped by the master key (stored). */
export interface DataKey {
  readonly key: Buffer;
  readonly wrapped: Buffer;
}

/**
 * Encryption at rest, envelope style: every file has its own random AES-256 data key, stored only
 * wrapped (AES-256-GCM) by the gateway's master key; each chunk is sealed with AES-256-GCM under
 * the data key with a random nonce. The file id is bound into the wrapped key, and the file id
 * and chunk index into each chunk, so nothing can be swapped between files or positions
 * unnoticed. Storage nodes and the database only ever hold ciphertext.
 */
export class FileCipher {
  constructor(private readonly master: MasterKey) {}

  get masterKeyId(): string {
    return this.master.id;
  }

  newDataKey(fileId: string): DataKey {
    const key = randomBytes(DATA_KEY_BYTES);
    return { key, wrapped: seal(this.master.key, key, `data key of file ${fileId}`) };
  }

  unwrapDataKey(fileId: string, wrapped: Uint8Array, masterKeyId: string): Buffer {
    if (masterKeyId !== this.master.id)
      throw new UnknownMasterKeyError(
        `file ${fileId} was encrypted under master key ${masterKeyId}, this gateway has ${this.master.id}`,
      );
    return open(this.master.key, wrapped, `data key of file ${fileId}`);
  }

  sealChunk(dataKey: Buffer, fileId: string, index: number, plain: Uint8Array): Buffer {
    return seal(dataKey, plain, chunkContext(fileId, index));
  }

  openChunk(dataKey: Buffer, fileId: string, index: number, sealed: Uint8Array): Buffer {
    return open(dataKey, sealed, chunkContext(fileId, index));
  }
}

function chunkContext(fileId: string, index: number): string {
  return `chunk ${index} of file ${fileId}`;
}
