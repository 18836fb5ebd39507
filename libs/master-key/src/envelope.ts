import { randomBytes } from 'node:crypto';
import type { MasterKeyring } from './keyring';
import type { MasterKey } from './master-key';
import { open, seal } from './sealing';

const KEY_BYTES = 32;
const AUDIT_CHAIN_KEYS_CONTEXT = 'audit chain keys';

/** A key in the clear (kept in memory only) and wrapped (stored). */
export interface WrappedKey {
  readonly key: Buffer;
  readonly wrapped: Buffer;
}

/**
 * The key hierarchy of encryption at rest: master key → one key per user → one data key per file
 * → its chunks. A user's key is wrapped by the master key, bound to the user's id; a file's data
 * key by its owner's key, bound to the file's id. Destroying a user's wrapped key makes every
 * data key under it, and so every chunk, unreadable (crypto-shredding), while rotating the master
 * key re-wraps only the users' keys. Files stored before user keys existed have their data key
 * wrapped by the master key directly, with the same binding.
 */
export function newUserKey(master: MasterKey, userId: string): WrappedKey {
  const key = randomBytes(KEY_BYTES);
  return { key, wrapped: wrapUserKey(master, userId, key) };
}

export function wrapUserKey(master: MasterKey, userId: string, key: Buffer): Buffer {
  return seal(master.key, key, userKeyContext(userId));
}

/** The user's key; UnknownMasterKeyError when no key of the ring wrapped it, SealBrokenError when altered. */
export function unwrapUserKey(keyring: MasterKeyring, userId: string, wrapped: Uint8Array, masterKeyId: string): Buffer {
  return open(keyring.get(masterKeyId, `the key of user ${userId}`).key, wrapped, userKeyContext(userId));
}

/** The audit chain's keys, wrapped by the master key as a user's key is, so a rotation only re-wraps them. */
export function wrapAuditChainKeys(master: MasterKey, keys: Buffer): Buffer {
  return seal(master.key, keys, AUDIT_CHAIN_KEYS_CONTEXT);
}

/** The audit chain's keys; UnknownMasterKeyError when no key of the ring wrapped them, SealBrokenError when altered. */
export function unwrapAuditChainKeys(keyring: MasterKeyring, wrapped: Uint8Array, masterKeyId: string): Buffer {
  return open(keyring.get(masterKeyId, "the audit chain's key set").key, wrapped, AUDIT_CHAIN_KEYS_CONTEXT);
}

export function newDataKey(wrappingKey: Buffer, fileId: string): WrappedKey {
  const key = randomBytes(KEY_BYTES);
  return { key, wrapped: wrapDataKey(wrappingKey, fileId, key) };
}

/** A file's data key wrapped by its owner's key (or, before user keys, by the master key itself). */
export function wrapDataKey(wrappingKey: Buffer, fileId: string, key: Buffer): Buffer {
  return seal(wrappingKey, key, dataKeyContext(fileId));
}

export function unwrapDataKey(wrappingKey: Buffer, fileId: string, wrapped: Uint8Array): Buffer {
  return open(wrappingKey, wrapped, dataKeyContext(fileId));
}

function userKeyContext(userId: string): string {
  return `key of user ${userId}`;
}

function dataKeyContext(fileId: string): string {
  return `data key of file ${fileId}`;
}
