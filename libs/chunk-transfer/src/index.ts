/**
 * Moving chunk bytes to and from storage nodes over gRPC: with back-pressure on writes, and every
 * read checked against the chunk's size and SHA-256 before it is used; reads hedged across
 * replicas, with a circuit breaker per node.
 */
export * from './storage-node-clients';
export * from './buffer-pool';
export * from './chunk-messages';
export * from './chunk-transfer';
export * from './node-health';
export * from './replica-reader';
export * from './transfer-budget';
