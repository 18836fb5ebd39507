export const METADATA_CONFIG = Symbol('METADATA_CONFIG');
export const METADATA_REDIS = Symbol('METADATA_REDIS');
