import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { filesApi } from '@cloudstore/contracts';
import { AllowedCallers, ForUser, verifiedUser } from '@cloudstore/grpc';
import { DownloadLinksService } from '../links/download-links.service';
import { FileSharesService } from '../shares/file-shares.service';
import { FileVersionsService } from '../versions/file-versions.service';
import { TrashService } from '../trash/trash.service';
import { ResumableUploadsService } from '../uploads/resumable-uploads.service';
import { UploadsService } from '../uploads/uploads.service';
import { UserErasureService } from '../user-erasure/user-erasure.service';
import { FilesService } from './files.service';
import { verifiedOwner } from './verified-owner';

/**
 * The metadata service's FileService: uploads, committed files and their versions, shares, download
 * links and the trash. Only the gateway
 * calls it, each call for the user of the access token it carries: the owner is that user,
 * whatever owner the request names.
 */
@Controller()
@filesApi.FileServiceControllerMethods()
export class FilesController implements filesApi.FileServiceController {
  constructor(
    private readonly uploads: UploadsService,
    private readonly files: FilesService,
    private readonly trash: TrashService,
    private readonly erasure: UserErasureService,
    private readonly shares: FileSharesService,
    private readonly links: DownloadLinksService,
    private readonly versions: FileVersionsService,
    private readonly resumable: ResumableUploadsService,
  ) {}

  @AllowedCallers('gateway')
  @ForUser()
  createUpload(request: filesApi.CreateUploadRequest, metadata?: Metadata): Promise<filesApi.CreateUploadResponse> {
    return this.uploads.create({ ...request, owner: verifiedOwner(metadata) });
  }

  // The calls that continue an upload or a download may outlast the token that began it.
  @AllowedCallers('gateway')
  @ForUser({ continuation: true })
  prepareChunk(request: filesApi.PrepareChunkRequest, metadata?: Metadata): Promise<filesApi.PrepareChunkResponse> {
    return this.uploads.prepareChunk({ ...request, ownerId: verifiedOwner(metadata).userId });
  }

  @AllowedCallers('gateway')
  @ForUser({ continuation: true })
  commitUpload(request: filesApi.CommitUploadRequest, metadata?: Metadata): Promise<filesApi.FileRecord> {
    return this.uploads.commit({ ...request, ownerId: verifiedOwner(metadata).userId });
  }

  @AllowedCallers('gateway')
  @ForUser({ continuation: true })
  async abortUpload(request: filesApi.AbortUploadRequest, metadata?: Metadata): Promise<filesApi.AbortUploadResponse> {
    await this.uploads.abort({ ...request, ownerId: verifiedOwner(metadata).userId });
    return {};
  }

  @AllowedCallers('gateway')
  @ForUser()
  async setUploadDataKey(
    request: filesApi.SetUploadDataKeyRequest,
    metadata?: Metadata,
  ): Promise<filesApi.SetUploadDataKeyResponse> {
    await this.resumable.setDataKey(verifiedOwner(metadata).userId, request);
    return {};
  }

  @AllowedCallers('gateway')
  @ForUser()
  getUploadStatus(request: filesApi.GetUploadStatusRequest, metadata?: Metadata): Promise<filesApi.UploadStatus> {
    return this.resumable.status(verifiedOwner(metadata).userId, request.uploadId);
  }

  @AllowedCallers('gateway')
  @ForUser()
  resumeUpload(request: filesApi.ResumeUploadRequest, metadata?: Metadata): Promise<filesApi.ResumedUpload> {
    return this.resumable.resume(verifiedOwner(metadata), request);
  }

  // A client that went away may have outlasted the token that began the upload.
  @AllowedCallers('gateway')
  @ForUser({ continuation: true })
  saveUploadProgress(request: filesApi.SaveUploadProgressRequest, metadata?: Metadata): Promise<filesApi.UploadStatus> {
    return this.resumable.saveProgress(verifiedOwner(metadata).userId, request);
  }

  @AllowedCallers('gateway')
  @ForUser()
  getFile(request: filesApi.GetFileRequest, metadata?: Metadata): Promise<filesApi.FileRecord> {
    return this.files.get(verifiedOwner(metadata).userId, request.fileId);
  }

  @AllowedCallers('gateway')
  @ForUser()
  listFiles(request: filesApi.ListFilesRequest, metadata?: Metadata): Promise<filesApi.ListFilesResponse> {
    return this.files.list({ ...request, ownerId: verifiedOwner(metadata).userId });
  }

  @AllowedCallers('gateway')
  @ForUser()
  deleteFile(request: filesApi.DeleteFileRequest, metadata?: Metadata): Promise<filesApi.DeleteFileResponse> {
    return this.files.delete({ ...request, ownerId: verifiedOwner(metadata).userId });
  }

  @AllowedCallers('gateway')
  @ForUser()
  listTrash(request: filesApi.ListTrashRequest, metadata?: Metadata): Promise<filesApi.ListFilesResponse> {
    return this.trash.list({ ...request, ownerId: verifiedOwner(metadata).userId });
  }

  @AllowedCallers('gateway')
  @ForUser()
  restoreFile(request: filesApi.RestoreFileRequest, metadata?: Metadata): Promise<filesApi.FileRecord> {
    return this.trash.restore({ ...request, owner: verifiedOwner(metadata) });
  }

  @AllowedCallers('gateway')
  @ForUser()
  purgeFile(request: filesApi.PurgeFileRequest, metadata?: Metadata): Promise<filesApi.PurgeFileResponse> {
    return this.trash.purge({ ...request, ownerId: verifiedOwner(metadata).userId });
  }

  @AllowedCallers('gateway')
  @ForUser()
  getDownloadPlan(request: filesApi.GetDownloadPlanRequest, metadata?: Metadata): Promise<filesApi.DownloadPlan> {
    return this.files.downloadPlan({ ...request, owner: verifiedOwner(metadata) });
  }

  @AllowedCallers('gateway')
  @ForUser({ continuation: true })
  locateChunk(request: filesApi.LocateChunkRequest, metadata?: Metadata): Promise<filesApi.PlannedChunk> {
    return this.files.locateChunk({ ...request, owner: verifiedOwner(metadata) });
  }

  /** Names no user's data: a replica the gateway could not read is checked and repaired. */
  @AllowedCallers('gateway')
  async reportReplicaProblem(request: filesApi.ReportReplicaProblemRequest): Promise<filesApi.ReportReplicaProblemResponse> {
    await this.files.reportReplicaProblem(request);
    return {};
  }

  @AllowedCallers('gateway')
  @ForUser()
  shareFile(request: filesApi.ShareFileRequest, metadata?: Metadata): Promise<filesApi.FileShare> {
    return this.shares.share(verifiedOwner(metadata), request);
  }

  @AllowedCallers('gateway')
  @ForUser()
  async unshareFile(request: filesApi.UnshareFileRequest, metadata?: Metadata): Promise<filesApi.UnshareFileResponse> {
    await this.shares.unshare(verifiedOwner(metadata), request);
    return {};
  }

  @AllowedCallers('gateway')
  @ForUser()
  listShares(request: filesApi.ListSharesRequest, metadata?: Metadata): Promise<filesApi.ListSharesResponse> {
    return this.shares.list(verifiedOwner(metadata).userId, request);
  }

  @AllowedCallers('gateway')
  @ForUser()
  createDownloadLink(request: filesApi.CreateDownloadLinkRequest, metadata?: Metadata): Promise<filesApi.DownloadLink> {
    return this.links.create(verifiedOwner(metadata), request);
  }

  @AllowedCallers('gateway')
  @ForUser()
  listDownloadLinks(
    request: filesApi.ListDownloadLinksRequest,
    metadata?: Metadata,
  ): Promise<filesApi.ListDownloadLinksResponse> {
    return this.links.list(verifiedOwner(metadata), request.fileId);
  }

  @AllowedCallers('gateway')
  @ForUser()
  async revokeDownloadLink(
    request: filesApi.RevokeDownloadLinkRequest,
    metadata?: Metadata,
  ): Promise<filesApi.RevokeDownloadLinkResponse> {
    await this.links.revoke(verifiedOwner(metadata), request);
    return {};
  }

  /** A link's bearer is no user: the link's secret (its SHA-256) is the credential. */
  @AllowedCallers('gateway')
  resolveDownloadLink(request: filesApi.ResolveDownloadLinkRequest): Promise<filesApi.ResolveDownloadLinkResponse> {
    return this.links.resolve(request.tokenSha256);
  }

  @AllowedCallers('gateway')
  getLinkDownloadPlan(request: filesApi.GetLinkDownloadPlanRequest): Promise<filesApi.DownloadPlan> {
    return this.links.plan(request);
  }

  @AllowedCallers('gateway')
  locateLinkChunk(request: filesApi.LocateLinkChunkRequest): Promise<filesApi.PlannedChunk> {
    return this.links.locateChunk(request);
  }

  @AllowedCallers('gateway')
  @ForUser()
  listVersions(request: filesApi.ListVersionsRequest, metadata?: Metadata): Promise<filesApi.ListVersionsResponse> {
    return this.versions.list(verifiedOwner(metadata), request.fileId);
  }

  @AllowedCallers('gateway')
  @ForUser()
  restoreVersion(request: filesApi.RestoreVersionRequest, metadata?: Metadata): Promise<filesApi.FileRecord> {
    return this.versions.restore(verifiedOwner(metadata), request);
  }

  /** The caller's own data, or with an admin's token another user's (checked by the service). */
  @AllowedCallers('gateway')
  @ForUser()
  eraseUserData(request: filesApi.EraseUserDataRequest, metadata?: Metadata): Promise<filesApi.EraseUserDataResponse> {
    return this.erasure.erase(request, verifiedUser(metadata));
  }
}
