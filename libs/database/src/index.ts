/**
 * Shared machinery of PostgreSQL through TypeORM, for the services that own data (auth,
 * metadata) and the tools that prepare their database. Entities and migrations belong to the
 * service that owns the data (apps/<service>/src/database); this lib connects, creates, migrates.
 * Redis lives in @cloudstore/redis, so that the gateway needs no TypeORM.
 */
export * from './snake-naming.strategy';
export * from './postgres';
export * from './data-source';
export * from './migrations';
export * from './timestamps';
export * from './column-transformers';
export * from './text-parameters';
export * from './migration-generator';
export * from './migration-cli';
export * from './query-results';
