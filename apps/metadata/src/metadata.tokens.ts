export const METADATA_CONFIG = Symbol('METADATA_CONFIG');
export const METADATA_REDIS = Symbol('METADATA_REDIS');
/** The process's InternalTransport: mutual TLS, or plaintext with INTERNAL_TLS=off. */
export const METADATA_TRANSPORT = Symbol('METADATA_TRANSPORT');
