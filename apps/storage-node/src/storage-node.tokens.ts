export const NODE_CONFIG = Symbol('NODE_CONFIG');
export const NODE_REGISTRY_CLIENT = Symbol('NODE_REGISTRY_CLIENT');
