import { KeyedHash, type MasterKey, SecretBox } from '@cloudstore/master-key';

/**
 * What the auth service keeps secret with the cluster's master key, one derived key per purpose:
 * sealed signing keys and TOTP secrets in the database, the MACs of mailed codes in Redis, and the
 * keyed hashes of attempted usernames in the audit log.
 */
export class AuthSecrets {
  readonly signingKeys: SecretBox;
  readonly totpSecrets: SecretBox;
  readonly otpCodes: KeyedHash;
  readonly auditNames: KeyedHash;

  constructor(master: MasterKey) {
    this.signingKeys = new SecretBox(master, 'token signing key');
    this.totpSecrets = new SecretBox(master, 'totp secret');
    this.otpCodes = new KeyedHash(master, 'email otp');
    this.auditNames = new KeyedHash(master, 'audit attempted username');
  }
}
