/** Helpers for integration and e2e tests: throw-away databases and Redis prefixes, factories, free ports, polling. */
export * from './test-database';
export * from './test-data-source';
export * from './test-redis';
export * from './redis-server';
export * from './test-stores';
export * from './factories';
export * from './in-memory-storage-node';
export * from './ports';
export * from './wait-for';
export * from './mail-text';
export * from './service-migrations';
export * from './test-pki';
export * from './tls-handshake';
export * from './standalone-node';
