import { type DynamicModule, Global, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import type { GatewayConfig } from '@cloudstore/config';
import { type Logger, type Metrics, observabilityProviders } from '@cloudstore/observability';
import type { Redis } from 'ioredis';
import { AccessTokenVerifier, TokenRevocations } from '@cloudstore/access-tokens';
import { BufferPool, ReplicaReader } from '@cloudstore/chunk-transfer';
import { AccountController } from './account/account.controller';
import { AccountErasureService } from './account/account-erasure.service';
import { UserExportService } from './account/user-export.service';
import { AdminGrpcController } from './admin/admin.grpc-controller';
import { AdminUsersController } from './admin/admin-users.controller';
import { AdminUsersService } from './admin/admin-users.service';
import { ClusterAdminController } from './admin/cluster-admin.controller';
import { ClusterAdminService } from './admin/cluster-admin.service';
import { SigningKeysAdminService } from './admin/signing-keys-admin.service';
import { AuditController } from './audit/audit.controller';
import { AuditService } from './audit/audit.service';
import { AccountsService } from './auth/accounts.service';
import { AuthController } from './auth/auth.controller';
import { AuthenticatedGuard } from './auth/authenticated.guard';
import { RequestAuthenticator } from './auth/request-authenticator';
import { RequestOrigins } from './auth/request-origins';
import { CHUNK_OVERHEAD, FileCipher } from './encryption/file-cipher';
import { DownloadService, IDLE_READ_BUFFERS } from './files/download.service';
import { FileTransferMetrics } from './files/file-transfer.metrics';
import { FilesController } from './files/files.controller';
import { TrashController } from './files/trash.controller';
import { FilesService } from './files/files.service';
import { UploadService } from './files/upload.service';
import { GATEWAY_CONFIG, REDIS } from './gateway.tokens';
import { HealthController } from './health/health.controller';
import { ReadinessService } from './health/readiness.service';
import { FileVersionsController } from './files/file-versions.controller';
import { ResumableUploadService } from './files/resumable-upload.service';
import { JsonBodyMiddleware } from './http/json-body.middleware';
import { DownloadLinksController, LinkDownloadController } from './links/download-links.controller';
import { DownloadLinksService } from './links/download-links.service';
import { SharesController } from './shares/shares.controller';
import { TusProtocolMiddleware } from './tus/tus-protocol.middleware';
import { TusDiscoveryController, TusUploadsController } from './tus/tus-uploads.controller';
import { TusUploadsService } from './tus/tus-uploads.service';
import { UploadTails } from './tus/upload-tails';
import { SharesService } from './shares/shares.service';
import { RequestContextMiddleware } from './http/request-context.middleware';
import { InternalClients } from './internal-clients/internal-clients';
import { CloudStorageGrpcController } from './public-grpc/cloud-storage.grpc-controller';
import { GrpcCallers } from './public-grpc/grpc-callers';

export interface GatewayModuleOptions {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly redis: Redis;
  readonly clients: InternalClients;
  readonly cipher: FileCipher;
}

/** What the process provides to every feature module. */
@Global()
@Module({})
class GatewayCoreModule {
  static register(options: GatewayModuleOptions): DynamicModule {
    const providers = [
      { provide: GATEWAY_CONFIG, useValue: options.config },
      { provide: REDIS, useValue: options.redis },
      { provide: InternalClients, useValue: options.clients },
      { provide: FileCipher, useValue: options.cipher },
      ...observabilityProviders(options.logger, options.metrics),
    ];
    return { module: GatewayCoreModule, providers, exports: providers };
  }
}

@Module({})
export class GatewayModule implements NestModule {
  static register(options: GatewayModuleOptions): DynamicModule {
    return {
      module: GatewayModule,
      imports: [GatewayCoreModule.register(options)],
      controllers: [
        HealthController,
        AccountController,
        AuthController,
        CloudStorageGrpcController,
        AdminUsersController,
        AdminGrpcController,
        AuditController,
        ClusterAdminController,
        FilesController,
        TrashController,
        FileVersionsController,
        SharesController,
        DownloadLinksController,
        LinkDownloadController,
        TusDiscoveryController,
        TusUploadsController,
      ],
      providers: [
        ReadinessService,
        AccountErasureService,
        UserExportService,
        AccountsService,
        AdminUsersService,
        AuditService,
        ClusterAdminService,
        SigningKeysAdminService,
        RequestAuthenticator,
        RequestOrigins,
        GrpcCallers,
        UploadService,
        ResumableUploadService,
        TusUploadsService,
        UploadTails,
        DownloadService,
        FilesService,
        SharesService,
        DownloadLinksService,
        FileTransferMetrics,
        AuthenticatedGuard,
        {
          provide: ReplicaReader,
          useFactory: () =>
            new ReplicaReader(
              options.clients.storageNodes,
              options.config.CHUNK_READ_TIMEOUT_MS,
              new BufferPool(options.config.CHUNK_SIZE_BYTES + CHUNK_OVERHEAD, IDLE_READ_BUFFERS),
            ),
        },
        {
          provide: TokenRevocations,
          useFactory: () => new TokenRevocations(options.redis, options.config.REDIS_KEY_PREFIX),
        },
        {
          provide: AccessTokenVerifier,
          inject: [AccountsService, TokenRevocations],
          useFactory: (accounts: AccountsService, revocations: TokenRevocations) =>
            new AccessTokenVerifier(async () => (await accounts.verificationKeys()).keys, revocations),
        },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestContextMiddleware).forRoutes('*');
    consumer.apply(TusProtocolMiddleware).forRoutes('v1/uploads', 'v1/uploads/*path');
    consumer
      .apply(JsonBodyMiddleware)
      .forRoutes('v1/auth/*path', 'v1/admin/*path', 'v1/me', 'v1/files/:fileId/shares', 'v1/files/:fileId/links');
  }
}
