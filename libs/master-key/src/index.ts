/**
 * The cluster's master key (MASTER_KEY, or DATA_DIR/master.key generated once) and what is built
 * on it: AES-256-GCM sealing, keys derived per purpose (HKDF), secrets sealed for a database, and
 * keyed hashes. The gateway wraps file keys with it; auth seals its secrets with it.
 */
export * from './master-key';
export * from './sealing';
export * from './secret-box';
