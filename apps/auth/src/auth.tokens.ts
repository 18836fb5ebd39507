export const AUTH_CONFIG = Symbol('AUTH_CONFIG');
export const REDIS = Symbol('REDIS');
/** The BullMQ queue that carries audit events to the metadata service. */
export const AUDIT_QUEUE = Symbol('AUDIT_QUEUE');
