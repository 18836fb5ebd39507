import { randomBytes } from 'node:crypto';
import { type MasterKey, open, openPieces, SEAL_OVERHEAD, Sealer, seal, UnknownMasterKeyError } from '@cloudstore/master-key';

const DATA_KEY_BYTES = 32;

/** Bytes a sealed chunk carries beyond the file's own: its nonce and its authentication tag. */
export const CHUNK_OVERHEAD = SEAL_OVERHEAD;

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
}

function chunkContext(fileId: string, index: number): string {
  return `chunk ${index} of file ${fileId}`;
}
