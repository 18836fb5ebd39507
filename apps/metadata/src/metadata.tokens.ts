export const METADATA_CONFIG = Symbol('METADATA_CONFIG');
