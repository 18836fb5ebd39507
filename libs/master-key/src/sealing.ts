import { type CipherGCM, createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Bytes a sealed value carries beyond its plaintext: its nonce and its authentication tag. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

/** The bytes failed authentication: they, or the key, are not what sealed them. */
export class SealBrokenError extends Error {
  override name = 'SealBrokenError';
}

/**
 * Plaintext given to the cipher at a time. Its output is a fresh buffer each time: small ones are
 * recycled by the allocator, while one as large as a chunk costs page faults on every call.
 */
const CIPHER_PIECE_BYTES = 64 * 1024;

/**
 * `seal` of plaintext that arrives in pieces: each sealed byte is handed to `sink` in order as it
 * is produced (nonce, ciphertext piece by piece, tag) rather than as one new buffer, so a caller
 * lays the bytes where they go and never holds the plaintext whole.
 */
export class Sealer {
  private readonly cipher: CipherGCM;

  constructor(
    key: Buffer,
    context: string,
    private readonly sink: (bytes: Buffer) => void,
  ) {
    const nonce = randomBytes(NONCE_BYTES);
    this.cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
    this.cipher.setAAD(Buffer.from(context));
    sink(nonce);
  }

  update(plain: Uint8Array): void {
    for (let offset = 0; offset < plain.length; offset += CIPHER_PIECE_BYTES)
      this.sink(this.cipher.update(plain.subarray(offset, offset + CIPHER_PIECE_BYTES)));
  }

  /** Seals what was given; nothing may follow. */
  final(): void {
    this.sink(this.cipher.final());
    this.sink(this.cipher.getAuthTag());
  }
}

/** AES-256-GCM with a random 96-bit nonce: nonce ‖ ciphertext ‖ tag, bound to `context` as additional data. */
export function seal(key: Buffer, plain: Uint8Array, context: string): Buffer {
  const sealed = Buffer.allocUnsafe(plain.length + SEAL_OVERHEAD);
  let offset = 0;
  const sealer = new Sealer(key, context, (bytes) => (offset += bytes.copy(sealed, offset)));
  sealer.update(plain);
  sealer.final();
  return sealed;
}

/**
 * The plaintext of `seal(key, plain, context)` as the pieces the cipher produced (none is handed
 * out before the tag authenticated all of them); SealBrokenError for anything else.
 */
export function openPieces(key: Buffer, sealed: Uint8Array, context: string): Buffer[] {
  if (sealed.length < SEAL_OVERHEAD) throw new SealBrokenError('sealed data is shorter than its nonce and tag');
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
  const decipher = createDecipheriv(ALGORITHM, key, bytes.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  const pieces: Buffer[] = [];
  try {
    for (let offset = NONCE_BYTES; offset < bytes.length - TAG_BYTES; offset += CIPHER_PIECE_BYTES)
      pieces.push(decipher.update(bytes.subarray(offset, Math.min(offset + CIPHER_PIECE_BYTES, bytes.length - TAG_BYTES))));
    decipher.final();
  } catch {
    throw new SealBrokenError(`${context} failed authentication`);
  }
  return pieces;
}

/** The plaintext of `seal(key, plain, context)`; SealBrokenError for anything else. */
export function open(key: Buffer, sealed: Uint8Array, context: string): Buffer {
  return Buffer.concat(openPieces(key, sealed, context));
}
