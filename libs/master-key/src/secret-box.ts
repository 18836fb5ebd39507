import { createHmac, hkdfSync } from 'node:crypto';
import type { MasterKey } from './master-key';
import { open, SealBrokenError, seal } from './sealing';

const DERIVED_KEY_BYTES = 32;
const SEALED_FORMAT = /^v1\.([0-9a-f]{16})\.([A-Za-z0-9_-]+)$/;

/** A SQL `LIKE` pattern every sealed value matches and no PEM or base32 secret does: finds rows still in plaintext. */
export const SEALED_VALUE_PATTERN = 'v1.%';

/** Something was sealed under another master key than the one this process has. */
export class UnknownMasterKeyError extends Error {
  override name = 'UnknownMasterKeyError';
}

/**
 * A key for one purpose, derived from the master key with HKDF-SHA256 (RFC 5869), so that no two
 * uses share a key and none of them exposes the master key itself.
 */
export function deriveKey(master: MasterKey, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master.key, Buffer.alloc(0), `cloudstore ${purpose}`, DERIVED_KEY_BYTES));
}

/** HMAC-SHA256 under a key derived from the master key for `purpose`: a keyed hash nobody can recompute without it. */
export class KeyedHash {
  private readonly key: Buffer;

  constructor(master: MasterKey, purpose: string) {
    this.key = deriveKey(master, `keyed hash ${purpose}`);
  }

  /** The MAC of the parts, each length-prefixed so that no two lists of parts collide. */
  digest(...parts: string[]): Buffer {
    const mac = createHmac('sha256', this.key);
    for (const part of parts) {
      const bytes = Buffer.from(part);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      mac.update(length).update(bytes);
    }
    return mac.digest();
  }
}

/**
 * Secrets kept in a database (signing keys, TOTP secrets), sealed with AES-256-GCM under a key
 * derived from the master key for one purpose, and bound to their row's id as additional data,
 * so a sealed value copied to another row does not open. Stored as `v1.<master key id>.<base64url>`.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(
    private readonly master: MasterKey,
    private readonly purpose: string,
  ) {
    this.key = deriveKey(master, `secret box ${purpose}`);
  }

  seal(plain: string, rowId: string): string {
    return `v1.${this.master.id}.${seal(this.key, Buffer.from(plain), this.context(rowId)).toString('base64url')}`;
  }

  /** The secret; UnknownMasterKeyError when another master key sealed it, SealBrokenError when it was altered. */
  open(sealed: string, rowId: string): string {
    const parts = SEALED_FORMAT.exec(sealed);
    if (!parts) throw new SealBrokenError(`the ${this.purpose} of ${rowId} is not a sealed value`);
    if (parts[1] !== this.master.id)
      throw new UnknownMasterKeyError(
        `the ${this.purpose} of ${rowId} was sealed under master key ${parts[1]}, this service has ${this.master.id}`,
      );
    return open(this.key, Buffer.from(parts[2], 'base64url'), this.context(rowId)).toString();
  }

  private context(rowId: string): string {
    return `${this.purpose} of ${rowId}`;
  }
}
