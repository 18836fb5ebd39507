import { KeyedHash, type MasterKeyring, SecretBox } from '@cloudstore/master-key';

/**
 * What the auth service keeps secret with the cluster's master key, one derived key per purpose:
 * sealed signing keys and TOTP secrets in the database, the MACs of mailed codes in Redis, and the
 * keyed hashes of attempted usernames in the audit log. Sealed values open under any key of the
 * ring (a rotation re-seals them); the keyed hashes follow the current key only, so a rotation
 * voids the codes mailed before it and starts new hashes of attempted usernames.
 */
export class AuthSecrets {
  readonly signingKeys: SecretBox;
  readonly totpSecrets: SecretBox;
  readonly otpCodes: KeyedHash;
  readonly auditNames: KeyedHash;

  constructor(masterKeys: MasterKeyring) {
    this.signingKeys = new SecretBox(masterKeys, 'token signing key');
    this.totpSecrets = new SecretBox(masterKeys, 'totp secret');
    this.otpCodes = KeyedHash.derived(masterKeys.current, 'email otp');
    this.auditNames = KeyedHash.derived(masterKeys.current, 'audit attempted username');
  }
}
