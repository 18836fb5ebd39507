import {
  type MasterKeyring,
  newUserKey,
  unwrapAuditChainKeys,
  unwrapDataKey,
  unwrapUserKey,
  wrapAuditChainKeys,
  wrapDataKey,
  wrapUserKey,
} from '@cloudstore/master-key';
import type { AuditChainKeysRepository } from '../audit/audit-chain-keys.repository';
import type { FilesRepository, MasterWrappedDataKey } from '../files/files.repository';
import type { StoredUserKey, UserKeysRepository } from './user-keys.repository';

const BATCH = 500;

/** What a rotation changed. */
export interface MasterKeyRotationResult {
  /** Data keys that the master key wrapped directly, now wrapped by their owner's key. */
  readonly dataKeysMoved: number;
  /** Users' keys re-wrapped from another master key to the current one. */
  readonly userKeysRewrapped: number;
  /** Whether the audit chain's keys were re-wrapped from another master key to the current one. */
  readonly auditChainKeysRewrapped: boolean;
}

/**
 * `npm run keys:rotate-master`: brings every wrapped key of the files under the ring's current
 * master key. First the data keys of files stored before user keys (which the master key wraps
 * directly) move under their owner's key, made then if the owner has none: that is the upgrade's
 * migration, and what makes those files shreddable; the gateways read both forms meanwhile. Then
 * every user's key wrapped by another master key is re-wrapped by the current one, and so are the
 * audit chain's keys (the chain's links do not change). Chunks and
 * the data keys under user keys are not touched. Idempotent and resumable (what is done is no
 * longer found), and safe beside uploads and a concurrent run: every change is conditional on the
 * value it replaces. A key no key of the ring opens stops it with UnknownMasterKeyError.
 */
export class MasterKeyRotation {
  constructor(
    private readonly keyring: MasterKeyring,
    private readonly userKeys: UserKeysRepository,
    private readonly files: FilesRepository,
    private readonly auditChainKeys: AuditChainKeysRepository,
  ) {}

  async run(): Promise<MasterKeyRotationResult> {
    return {
      dataKeysMoved: await this.moveDataKeysUnderUserKeys(),
      userKeysRewrapped: await this.rewrapUserKeys(),
      auditChainKeysRewrapped: await this.rewrapAuditChainKeys(),
    };
  }

  private async moveDataKeysUnderUserKeys(): Promise<number> {
    let moved = 0;
    for (
      let batch = await this.files.masterWrappedDataKeys(BATCH);
      batch.length > 0;
      batch = await this.files.masterWrappedDataKeys(BATCH)
    ) {
      const owners = new Map<string, Buffer | undefined>();
      for (const file of batch) {
        if (!owners.has(file.ownerId)) owners.set(file.ownerId, await this.ownersKey(file.ownerId));
        const userKey = owners.get(file.ownerId);
        // The owner's key was destroyed while this ran: the destruction wipes this data key too.
        if (!userKey) continue;
        if (await this.files.wrapDataKeyByUserKey(file, wrapDataKey(userKey, file.publicId, this.dataKey(file)))) moved += 1;
      }
    }
    return moved;
  }

  private async rewrapUserKeys(): Promise<number> {
    const current = this.keyring.current;
    let rewrapped = 0;
    for (
      let batch = await this.userKeys.wrappedByOtherThan(current.id, BATCH);
      batch.length > 0;
      batch = await this.userKeys.wrappedByOtherThan(current.id, BATCH)
    ) {
      for (const stored of batch) {
        const key = this.userKey(stored);
        if (await this.userKeys.rewrap(stored, wrapUserKey(current, stored.userId, key), current.id)) rewrapped += 1;
      }
    }
    return rewrapped;
  }

  /** Chains with no keys yet get theirs wrapped by the current master key when first needed. */
  private async rewrapAuditChainKeys(): Promise<boolean> {
    const current = this.keyring.current;
    const stored = await this.auditChainKeys.find();
    if (!stored || stored.masterKeyId === current.id) return false;
    const keys = unwrapAuditChainKeys(this.keyring, stored.wrappedKeys, stored.masterKeyId);
    return this.auditChainKeys.rewrap(stored, wrapAuditChainKeys(current, keys), current.id);
  }

  /** The owner's key in the clear, made (wrapped by the current master key) if the owner has none; none once destroyed. */
  private async ownersKey(ownerId: string): Promise<Buffer | undefined> {
    const proposed = newUserKey(this.keyring.current, ownerId);
    const stored = await this.userKeys.ensure({
      userId: ownerId,
      wrappedKey: proposed.wrapped,
      masterKeyId: this.keyring.current.id,
    });
    return stored === 'erased' ? undefined : this.userKey(stored);
  }

  private userKey(stored: StoredUserKey): Buffer {
    return unwrapUserKey(this.keyring, stored.userId, stored.wrappedKey, stored.masterKeyId);
  }

  private dataKey(file: MasterWrappedDataKey): Buffer {
    return unwrapDataKey(
      this.keyring.get(file.masterKeyId, `the data key of file ${file.publicId}`).key,
      file.publicId,
      file.wrappedDataKey,
    );
  }
}
