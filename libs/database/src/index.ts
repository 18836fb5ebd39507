/**
 * Shared machinery of the data stores (PostgreSQL, Redis). Entities and migrations belong to
 * the service that owns the data (apps/<service>/src/database); this lib connects, creates, migrates.
 */
export * from './snake-naming.strategy';
export * from './postgres';
export * from './data-source';
export * from './migrations';
export * from './timestamps';
export * from './column-transformers';
export * from './redis';
export * from './migration-generator';
export * from './migration-cli';
