import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Bytes a sealed value carries beyond its plaintext: its nonce and its authentication tag. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

/** The bytes failed authentication: they, or the key, are not what sealed them. */
export class SealBrokenError extends Error {
  override name = 'SealBrokenError';
}

/** AES-256-GCM with a random 96-bit nonce: nonce ‖ ciphertext ‖ tag, bound to `context` as additional data. */
export function seal(key: Buffer, plain: Uint8Array, context: string): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context));
  const sealed = Buffer.allocUnsafe(plain.length + SEAL_OVERHEAD);
  nonce.copy(sealed, 0);
  let offset = NONCE_BYTES + cipher.update(plain).copy(sealed, NONCE_BYTES);
  offset += cipher.final().copy(sealed, offset);
  cipher.getAuthTag().copy(sealed, offset);
  return sealed;
}

/** The plaintext of `seal(key, plain, context)`; SealBrokenError for anything else. */
export function open(key: Buffer, sealed: Uint8Array, context: string): Buffer {
  if (sealed.length < SEAL_OVERHEAD) throw new SealBrokenError('sealed data is shorter than its nonce and tag');
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
