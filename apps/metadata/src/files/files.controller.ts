import { Controller } from '@nestjs/common';
import { filesApi } from '@cloudstore/contracts';
import { TrashService } from '../trash/trash.service';
import { UploadsService } from '../uploads/uploads.service';
import { FilesService } from './files.service';

/** The metadata service's FileService: uploads, committed files and the trash. */
@Controller()
@filesApi.FileServiceControllerMethods()
export class FilesController implements filesApi.FileServiceController {
  constructor(
    private readonly uploads: UploadsService,
    private readonly files: FilesService,
    private readonly trash: TrashService,
  ) {}

  createUpload(request: filesApi.CreateUploadRequest): Promise<filesApi.CreateUploadResponse> {
    return this.uploads.create(request);
  }

  prepareChunk(request: filesApi.PrepareChunkRequest): Promise<filesApi.PrepareChunkResponse> {
    return this.uploads.prepareChunk(request);
  }

  async completeChunk(request: filesApi.CompleteChunkRequest): Promise<filesApi.CompleteChunkResponse> {
    await this.uploads.completeChunk(request);
    return {};
  }

  commitUpload(request: filesApi.CommitUploadRequest): Promise<filesApi.FileRecord> {
    return this.uploads.commit(request);
  }

  async abortUpload(request: filesApi.AbortUploadRequest): Promise<filesApi.AbortUploadResponse> {
    await this.uploads.abort(request);
    return {};
  }

  getFile(request: filesApi.GetFileRequest): Promise<filesApi.FileRecord> {
    return this.files.get(request.ownerId, request.fileId);
  }

  listFiles(request: filesApi.ListFilesRequest): Promise<filesApi.ListFilesResponse> {
    return this.files.list(request);
  }

  deleteFile(request: filesApi.DeleteFileRequest): Promise<filesApi.DeleteFileResponse> {
    return this.files.delete(request);
  }

  listTrash(request: filesApi.ListTrashRequest): Promise<filesApi.ListFilesResponse> {
    return this.trash.list(request);
  }

  restoreFile(request: filesApi.RestoreFileRequest): Promise<filesApi.FileRecord> {
    return this.trash.restore(request);
  }

  purgeFile(request: filesApi.PurgeFileRequest): Promise<filesApi.PurgeFileResponse> {
    return this.trash.purge(request);
  }

  getDownloadPlan(request: filesApi.GetDownloadPlanRequest): Promise<filesApi.DownloadPlan> {
    return this.files.downloadPlan(request);
  }

  locateChunk(request: filesApi.LocateChunkRequest): Promise<filesApi.PlannedChunk> {
    return this.files.locateChunk(request);
  }

  async reportReplicaProblem(request: filesApi.ReportReplicaProblemRequest): Promise<filesApi.ReportReplicaProblemResponse> {
    await this.files.reportReplicaProblem(request);
    return {};
  }
}
