import { type MasterKeyring, unwrapAuditChainKeys, wrapAuditChainKeys } from '@cloudstore/master-key';
import { AuditChain, masterDerivedAuditChainKeys, newAuditChainKeys } from './audit-chain';
import type { AuditChainKeysRepository, StoredAuditChainKeys } from './audit-chain-keys.repository';

/**
 * The audit chain under its own keys, stored wrapped by the master key and created the first time
 * any process needs them (the service at start, audit:verify): replicas that race store one set.
 * Opened under whichever key of the ring wrapped them, so the chain verifies through a rotation.
 */
export class AuditChainKeys {
  constructor(
    private readonly keyring: MasterKeyring,
    private readonly repository: AuditChainKeysRepository,
  ) {}

  async chain(): Promise<AuditChain> {
    const stored = (await this.repository.find()) ?? (await this.repository.ensure(await this.proposal()));
    return new AuditChain(unwrapAuditChainKeys(this.keyring, stored.wrappedKeys, stored.masterKeyId));
  }

  private async proposal(): Promise<StoredAuditChainKeys> {
    const current = this.keyring.current;
    // Rows sealed before the chain had keys of its own were keyed from the master key: those
    // derived keys become the chain's keys, so the old links keep verifying and need no resealing.
    const keys = (await this.repository.chainBegun()) ? masterDerivedAuditChainKeys(current) : newAuditChainKeys();
    return { wrappedKeys: wrapAuditChainKeys(current, keys), masterKeyId: current.id };
  }
}
