/**
 * The cluster's master key (MASTER_KEY, or DATA_DIR/master.key generated once; MASTER_KEY_PREVIOUS
 * during a rotation) and what is built on it: AES-256-GCM sealing, the key hierarchy of files
 * (master key → user keys → data keys), keys derived per purpose (HKDF), secrets sealed for a
 * database, and keyed hashes. The gateway wraps keys with it; auth seals its secrets with it.
 */
export * from './envelope';
export * from './keyring';
export * from './master-key';
export * from './sealing';
export * from './secret-box';
