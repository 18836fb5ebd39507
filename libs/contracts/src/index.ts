/**
 * The wire contracts of cloudstore: TypeScript generated from `proto/` by ts-proto (never edit
 * `generated/` by hand: `npm run proto:generate`), the proto package names, and the error codes.
 */
export * as publicApi from './generated/cloudstorage/v1/cloud_storage';
export * as storageNodeApi from './generated/storage/v1/storage_node';
export * as nodeRegistryApi from './generated/metadata/v1/node_registry';
export * as authApi from './generated/auth/v1/auth';
export * as commonApi from './generated/common/v1/common';
export * as filesApi from './generated/metadata/v1/files';
export * as auditApi from './generated/metadata/v1/audit';
export * from './errors';
export * from './proto-packages';
export * from './pagination';
