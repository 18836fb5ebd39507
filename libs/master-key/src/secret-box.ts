import { createHmac, hkdfSync } from 'node:crypto';
import type { MasterKeyring } from './keyring';
import type { MasterKey } from './master-key';
import { open, SealBrokenError, seal } from './sealing';

const DERIVED_KEY_BYTES = 32;
const SEALED_FORMAT = /^v1\.([0-9a-f]{16})\.([A-Za-z0-9_-]+)$/;

/** A SQL `LIKE` pattern every sealed value matches and no PEM or base32 secret does: finds rows still in plaintext. */
export const SEALED_VALUE_PATTERN = 'v1.%';

/** A SQL `LIKE` pattern of the values sealed under one master key: finds rows a rotation has still to re-seal. */
export function sealedUnderPattern(masterKeyId: string): string {
  return `v1.${masterKeyId}.%`;
}

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

/** HMAC-SHA256 under a secret key: a keyed hash nobody can recompute without it. */
export class KeyedHash {
  constructor(private readonly key: Buffer) {}

  /** Under a key derived from the master key for `purpose`. */
  static derived(master: MasterKey, purpose: string): KeyedHash {
    return new KeyedHash(deriveKey(master, `keyed hash ${purpose}`));
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
 * so a sealed value copied to another row does not open. Stored as `v1.<master key id>.<base64url>`:
 * sealed under the ring's current key, opened under whichever key of the ring sealed it.
 */
export class SecretBox {
  constructor(
    private readonly keyring: MasterKeyring,
    private readonly purpose: string,
  ) {}

  /** The master key new values are sealed under. */
  get masterKeyId(): string {
    return this.keyring.current.id;
  }

  seal(plain: string, rowId: string): string {
    const id = this.masterKeyId;
    return `v1.${id}.${seal(this.key(id, rowId), Buffer.from(plain), this.context(rowId)).toString('base64url')}`;
  }

  /** The secret; UnknownMasterKeyError when a key the ring lacks sealed it, SealBrokenError when it was altered. */
  open(sealed: string, rowId: string): string {
    const parts = SEALED_FORMAT.exec(sealed);
    if (!parts) throw new SealBrokenError(`the ${this.purpose} of ${rowId} is not a sealed value`);
    return open(this.key(parts[1], rowId), Buffer.from(parts[2], 'base64url'), this.context(rowId)).toString();
  }

  private key(masterKeyId: string, rowId: string): Buffer {
    return deriveKey(this.keyring.get(masterKeyId, `the ${this.purpose} of ${rowId}`), `secret box ${this.purpose}`);
  }

  private context(rowId: string): string {
    return `${this.purpose} of ${rowId}`;
  }
}
