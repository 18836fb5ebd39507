/**
 * Configuration of every cloudstore process: one validated schema per app, read from the
 * environment once at start. Nothing else in the code base reads `process.env`.
 */
export * from './env-vars';
export * from './load-config';
export * from './common-vars';
export * from './redis-settings';
export * from './schemas/gateway.config';
export * from './schemas/auth.config';
export * from './schemas/metadata.config';
export * from './schemas/storage-node.config';
export * from './schemas/local-cluster.config';
export * from './app-schemas';
export * from './schemas/health-probe.config';
