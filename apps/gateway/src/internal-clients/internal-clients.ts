import { StorageNodeClients } from '@cloudstore/chunk-transfer';
import type { GatewayConfig } from '@cloudstore/config';
import {
  AUDIT_LOG_SERVICE,
  type auditApi,
  AUTH_SERVICE,
  type authApi,
  FILE_SERVICE,
  type filesApi,
  NODE_REGISTRY_SERVICE,
  type nodeRegistryApi,
  QUOTA_SERVICE,
  USER_ADMIN_SERVICE,
} from '@cloudstore/contracts';
import { GrpcServiceClient, type InternalTransport } from '@cloudstore/grpc';

/** The gateway's connections to the internal services; one channel each, shared by all requests. */
export class InternalClients {
  readonly auth: GrpcServiceClient<authApi.AuthServiceClient>;
  readonly userAdmin: GrpcServiceClient<authApi.UserAdminServiceClient>;
  readonly nodeRegistry: GrpcServiceClient<nodeRegistryApi.NodeRegistryServiceClient>;
  readonly files: GrpcServiceClient<filesApi.FileServiceClient>;
  readonly quotas: GrpcServiceClient<filesApi.QuotaServiceClient>;
  readonly auditLog: GrpcServiceClient<auditApi.AuditLogServiceClient>;
  /** Chunk bytes go straight between the gateway and the nodes; `storageNodes.health` orders replicas, hedges reads, skips suspect nodes. */
  readonly storageNodes: StorageNodeClients;

  /** `transport`: mutual TLS to auth, metadata and the nodes (and to the gateway's own health checks of them). */
  constructor(
    readonly config: GatewayConfig,
    readonly transport: InternalTransport,
  ) {
    this.storageNodes = new StorageNodeClients(transport);
    // Password hashing makes some auth calls take a while under load.
    this.auth = new GrpcServiceClient(AUTH_SERVICE, config.AUTH_ADDRESS, transport, 15_000);
    this.userAdmin = new GrpcServiceClient(USER_ADMIN_SERVICE, config.AUTH_ADDRESS, transport, 10_000);
    this.nodeRegistry = new GrpcServiceClient(NODE_REGISTRY_SERVICE, config.METADATA_ADDRESS, transport, 5000);
    this.files = new GrpcServiceClient(FILE_SERVICE, config.METADATA_ADDRESS, transport, 15_000);
    this.quotas = new GrpcServiceClient(QUOTA_SERVICE, config.METADATA_ADDRESS, transport, 10_000);
    this.auditLog = new GrpcServiceClient(AUDIT_LOG_SERVICE, config.METADATA_ADDRESS, transport, 10_000);
  }

  close(): void {
    this.auth.close();
    this.userAdmin.close();
    this.nodeRegistry.close();
    this.files.close();
    this.quotas.close();
    this.auditLog.close();
    this.storageNodes.close();
  }
}
