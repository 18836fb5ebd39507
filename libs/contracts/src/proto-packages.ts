/** A gRPC service as the proto declares it: the file that holds it and its full name. */
export interface ProtoService {
  /** Path below `proto/`. */
  readonly file: string;
  readonly packageName: string;
  readonly serviceName: string;
  /**
   * It verifies users' access tokens itself: a call made for a user carries the user's token to
   * it, and only to such a service (never to a storage node).
   */
  readonly verifiesUsers?: true;
}

export const CLOUD_STORAGE_SERVICE: ProtoService = {
  file: 'cloudstorage/v1/cloud_storage.proto',
  packageName: 'cloudstorage.v1',
  serviceName: 'CloudStorageService',
};

export const STORAGE_NODE_SERVICE: ProtoService = {
  file: 'storage/v1/storage_node.proto',
  packageName: 'cloudstore.storage.v1',
  serviceName: 'StorageNodeService',
};

export const NODE_REGISTRY_SERVICE: ProtoService = {
  file: 'metadata/v1/node_registry.proto',
  packageName: 'cloudstore.metadata.v1',
  serviceName: 'NodeRegistryService',
  verifiesUsers: true,
};

export const AUTH_SERVICE: ProtoService = {
  file: 'auth/v1/auth.proto',
  packageName: 'cloudstore.auth.v1',
  serviceName: 'AuthService',
  verifiesUsers: true,
};

export const USER_ADMIN_SERVICE: ProtoService = {
  file: 'auth/v1/auth.proto',
  packageName: 'cloudstore.auth.v1',
  serviceName: 'UserAdminService',
  verifiesUsers: true,
};

export const ADMIN_SERVICE: ProtoService = {
  file: 'cloudstorage/v1/cloud_storage.proto',
  packageName: 'cloudstorage.v1',
  serviceName: 'AdminService',
};

export const FILE_SERVICE: ProtoService = {
  file: 'metadata/v1/files.proto',
  packageName: 'cloudstore.metadata.v1',
  serviceName: 'FileService',
  verifiesUsers: true,
};

export const QUOTA_SERVICE: ProtoService = {
  file: 'metadata/v1/files.proto',
  packageName: 'cloudstore.metadata.v1',
  serviceName: 'QuotaService',
  verifiesUsers: true,
};

export const AUDIT_LOG_SERVICE: ProtoService = {
  file: 'metadata/v1/audit.proto',
  packageName: 'cloudstore.metadata.v1',
  serviceName: 'AuditLogService',
  verifiesUsers: true,
};
