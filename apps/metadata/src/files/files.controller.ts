import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { FILE_SERVICE, filesApi } from '@cloudstore/contracts';
import { TrashService } from '../trash/trash.service';
import { UploadsService } from '../uploads/uploads.service';
import { FilesService } from './files.service';

const SERVICE = FILE_SERVICE.serviceName;

/** The metadata service's FileService: uploads, committed files and the trash. */
@Controller()
export class FilesController {
  constructor(
    private readonly uploads: UploadsService,
    private readonly files: FilesService,
    private readonly trash: TrashService,
  ) {}

  @GrpcMethod(SERVICE, 'CreateUpload')
  createUpload(request: filesApi.CreateUploadRequest): Promise<filesApi.CreateUploadResponse> {
    return this.uploads.create(request);
  }

  @GrpcMethod(SERVICE, 'PrepareChunk')
  prepareChunk(request: filesApi.PrepareChunkRequest): Promise<filesApi.PrepareChunkResponse> {
    return this.uploads.prepareChunk(request);
  }

  @GrpcMethod(SERVICE, 'CompleteChunk')
  async completeChunk(request: filesApi.CompleteChunkRequest): Promise<filesApi.CompleteChunkResponse> {
    await this.uploads.completeChunk(request);
    return {};
  }

  @GrpcMethod(SERVICE, 'CommitUpload')
  commitUpload(request: filesApi.CommitUploadRequest): Promise<filesApi.FileRecord> {
    return this.uploads.commit(request);
  }

  @GrpcMethod(SERVICE, 'AbortUpload')
  async abortUpload(request: filesApi.AbortUploadRequest): Promise<filesApi.AbortUploadResponse> {
    await this.uploads.abort(request);
    return {};
  }

  @GrpcMethod(SERVICE, 'GetFile')
  getFile(request: filesApi.GetFileRequest): Promise<filesApi.FileRecord> {
    return this.files.get(request.ownerId, request.fileId);
  }

  @GrpcMethod(SERVICE, 'ListFiles')
  listFiles(request: filesApi.ListFilesRequest): Promise<filesApi.ListFilesResponse> {
    return this.files.list(request);
  }

  @GrpcMethod(SERVICE, 'DeleteFile')
  deleteFile(request: filesApi.DeleteFileRequest): Promise<filesApi.DeleteFileResponse> {
    return this.files.delete(request);
  }

  @GrpcMethod(SERVICE, 'ListTrash')
  listTrash(request: filesApi.ListTrashRequest): Promise<filesApi.ListFilesResponse> {
    return this.trash.list(request);
  }

  @GrpcMethod(SERVICE, 'RestoreFile')
  restoreFile(request: filesApi.RestoreFileRequest): Promise<filesApi.FileRecord> {
    return this.trash.restore(request);
  }

  @GrpcMethod(SERVICE, 'PurgeFile')
  purgeFile(request: filesApi.PurgeFileRequest): Promise<filesApi.PurgeFileResponse> {
    return this.trash.purge(request);
  }

  @GrpcMethod(SERVICE, 'GetDownloadPlan')
  getDownloadPlan(request: filesApi.GetDownloadPlanRequest): Promise<filesApi.DownloadPlan> {
    return this.files.downloadPlan(request);
  }

  @GrpcMethod(SERVICE, 'LocateChunk')
  locateChunk(request: filesApi.LocateChunkRequest): Promise<filesApi.PlannedChunk> {
    return this.files.locateChunk(request);
  }

  @GrpcMethod(SERVICE, 'ReportReplicaProblem')
  async reportReplicaProblem(request: filesApi.ReportReplicaProblemRequest): Promise<filesApi.ReportReplicaProblemResponse> {
    await this.files.reportReplicaProblem(request);
    return {};
  }
}
