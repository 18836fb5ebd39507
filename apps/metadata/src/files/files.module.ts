import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { GarbageCollectionProcessor } from '../garbage-collection/garbage-collection.processor';
import { NodeRegistryModule } from '../node-registry/node-registry.module';
import { QuotasController } from '../quotas/quotas.controller';
import { QuotasRepository } from '../quotas/quotas.repository';
import { QuotasService } from '../quotas/quotas.service';
import { DownloadLinksRepository } from '../links/download-links.repository';
import { DownloadLinksService } from '../links/download-links.service';
import { FileSharesRepository } from '../shares/file-shares.repository';
import { FileSharesService } from '../shares/file-shares.service';
import { TrashService } from '../trash/trash.service';
import { ResumableUploadsService } from '../uploads/resumable-uploads.service';
import { UploadReservationsService } from '../uploads/upload-reservations.service';
import { UploadsRepository } from '../uploads/uploads.repository';
import { UploadsService } from '../uploads/uploads.service';
import { UserErasureRepository } from '../user-erasure/user-erasure.repository';
import { UserErasureService } from '../user-erasure/user-erasure.service';
import { UserKeysRepository } from '../user-keys/user-keys.repository';
import { UserKeysService } from '../user-keys/user-keys.service';
import { FileVersionsRepository } from '../versions/file-versions.repository';
import { FileVersionsService } from '../versions/file-versions.service';
import { VersionKeeper } from '../versions/version-keeper';
import { ChunksRepository } from './chunks.repository';
import { FilesController } from './files.controller';
import { FilesRepository } from './files.repository';
import { FilesService } from './files.service';

/** Files and their versions, uploads, shares, links, users' keys, the trash and quotas: one module, since a commit or a restore touches them in one transaction. */
@Module({
  imports: [AuditModule, NodeRegistryModule],
  controllers: [FilesController, QuotasController],
  providers: [
    ChunksRepository,
    DownloadLinksRepository,
    DownloadLinksService,
    FileSharesRepository,
    FileVersionsRepository,
    FileVersionsService,
    FileSharesService,
    FilesRepository,
    FilesService,
    GarbageCollectionProcessor,
    QuotasRepository,
    QuotasService,
    ResumableUploadsService,
    TrashService,
    UploadReservationsService,
    UploadsRepository,
    UploadsService,
    UserErasureRepository,
    UserErasureService,
    UserKeysRepository,
    UserKeysService,
    VersionKeeper,
  ],
})
export class FilesModule {}
