import { Metadata, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import { Controller, Inject } from '@nestjs/common';
import type { GatewayConfig } from '@cloudstore/config';
import { type filesApi, InvalidArgumentError, publicApi } from '@cloudstore/contracts';
import { answerStreamCall, ClientStreamCall, writeAll } from '@cloudstore/grpc';
import { LOGGER, type Logger, Metrics } from '@cloudstore/observability';
import { from, ignoreElements, type Observable } from 'rxjs';
import { AccountErasureService, erasureResponse } from '../account/account-erasure.service';
import { UserExportService } from '../account/user-export.service';
import { AuditService, grpcAuditRequest } from '../audit/audit.service';
import { AccountsService, PASSWORD_RESET_ACCEPTED } from '../auth/accounts.service';
import { DownloadService } from '../files/download.service';
import { fileInfo, FilesService } from '../files/files.service';
import { downloadMessages, readUploadStream, type UploadCall } from '../files/grpc-transfer';
import { ResumableUploadService } from '../files/resumable-upload.service';
import { UploadService } from '../files/upload.service';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { SharesService } from '../shares/shares.service';
import { GrpcCallers } from './grpc-callers';

const SERVICE = publicApi.CLOUD_STORAGE_SERVICE_NAME;
type Call = ServerUnaryCall<unknown, unknown>;

/**
 * The public CloudStorageService: each RPC maps its request, calls the one service method that
 * the REST route of the same operation calls too, and maps the answer.
 */
@Controller()
// UploadFile keeps grpc-js's own call for backpressure and cancellation: see ClientStreamCall.
@ClientStreamCall<publicApi.CloudStorageServiceController>(SERVICE, 'uploadFile')
@publicApi.CloudStorageServiceControllerMethods()
export class CloudStorageGrpcController implements Omit<publicApi.CloudStorageServiceController, 'uploadFile'> {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly accounts: AccountsService,
    private readonly uploads: UploadService,
    private readonly downloads: DownloadService,
    private readonly files: FilesService,
    private readonly audit: AuditService,
    private readonly exports: UserExportService,
    private readonly erasure: AccountErasureService,
    private readonly shares: SharesService,
    private readonly resumable: ResumableUploadService,
    private readonly callers: GrpcCallers,
    private readonly metrics: Metrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async register(request: publicApi.RegisterRequest, metadata: Metadata, call: Call): Promise<publicApi.RegisterResponse> {
    const result = await this.accounts.register(request, this.callers.origin(call, metadata));
    return { success: true, message: 'Registered', userId: result.userId, createdAt: result.createdAt };
  }

  async login(request: publicApi.LoginRequest, metadata: Metadata, call: Call): Promise<publicApi.LoginResponse> {
    const result = await this.accounts.login(request.username, request.password, this.callers.origin(call, metadata));
    const message =
      result.otpMethod === 'totp' ? 'Enter the code of your authenticator app' : 'A sign-in code was sent to your email';
    return {
      success: true,
      message,
      sessionId: result.sessionId,
      otpMethod: result.otpMethod,
      otpExpiresAt: result.otpExpiresAt,
    };
  }

  async verifyOtp(request: publicApi.VerifyOTPRequest, metadata: Metadata, call: Call): Promise<publicApi.VerifyOTPResponse> {
    const pair = await this.accounts.verifyOtp(request.sessionId, request.otp, this.callers.origin(call, metadata));
    return {
      success: true,
      message: 'Signed in',
      authToken: pair.accessToken,
      tokenType: pair.tokenType,
      expiresAt: pair.expiresAt,
      refreshToken: pair.refreshToken,
      refreshExpiresAt: pair.refreshExpiresAt,
    };
  }

  async refreshToken(
    request: publicApi.RefreshTokenRequest,
    metadata: Metadata,
    call: Call,
  ): Promise<publicApi.RefreshTokenResponse> {
    const pair = await this.accounts.refresh(request, this.callers.origin(call, metadata));
    return {
      success: true,
      message: 'Token renewed',
      newToken: pair.accessToken,
      expiresAt: pair.expiresAt,
      refreshToken: pair.refreshToken,
      refreshExpiresAt: pair.refreshExpiresAt,
      tokenType: pair.tokenType,
    };
  }

  /** The first message carries auth_token and filename (and optionally file_id); any message may carry bytes. */
  uploadFile(call: UploadCall, callback: sendUnaryData<publicApi.UploadFileResponse>): Promise<void> {
    const observation = { metrics: this.metrics, logger: this.logger, grpcService: SERVICE, grpcMethod: 'UploadFile', call };
    return answerStreamCall(callback, observation, async () => {
      const stream = await readUploadStream(call, this.config.TRANSFER_IDLE_TIMEOUT_SECONDS * 1000);
      const caller = await this.callers.user(stream.first, call.metadata);
      // A resumable upload goes on from its offset, under the name and size it was created with.
      const resume = stream.first.uploadId ? await this.resumable.resume(stream.first.uploadId, stream.first.offset) : undefined;
      if (!resume && !stream.first.filename) throw new InvalidArgumentError('The first message must carry the filename');
      const file = await this.uploads.upload(stream.bytes, {
        caller,
        filename: resume?.filename ?? stream.first.filename,
        declaredSize: resume?.declaredSize ?? stream.declaredSize,
        contentType: 'application/octet-stream',
        fileId: resume?.fileId ?? stream.first.fileId,
        origin: this.callers.origin(call, call.metadata),
        clientGone: () => call.cancelled,
        ...(resume ? { resume } : {}),
      });
      return {
        success: true,
        message: 'Uploaded',
        fileId: file.fileId,
        fileSize: file.size,
        checksum: file.sha256,
        storageNodes: file.storageNodes,
      };
    });
  }

  downloadFile(
    request: publicApi.DownloadFileRequest,
    metadata: Metadata,
    call: ServerWritableStream<publicApi.DownloadFileRequest, publicApi.DownloadFileResponse>,
  ): Observable<never> {
    const send = async () => {
      const { caller, origin } = await this.callers.userCall(request, metadata, call);
      const download = await this.downloads.open(caller, request.fileId, undefined, origin, request.versionId);
      // Before the bytes: what a client needs to show progress, name the file and verify it whole.
      const headers = new Metadata();
      headers.set('x-file-size', String(download.file.size));
      headers.set('x-file-sha256', download.file.sha256);
      headers.set('x-file-name-bin', Buffer.from(download.file.filename));
      call.sendMetadata(headers);
      await writeAll(call, downloadMessages(download.body), (message) => message);
    };
    return from(send()).pipe(ignoreElements());
  }

  async listFiles(request: publicApi.ListFilesRequest, metadata: Metadata): Promise<publicApi.ListFilesResponse> {
    const caller = await this.callers.user(request, metadata);
    const result = await this.files.list(caller, {
      limit: request.limit,
      offset: request.offset,
      filter: request.filter,
      after: '',
    });
    return { success: true, files: result.files.map(fileInfo), totalCount: result.totalCount };
  }

  async deleteFile(request: publicApi.DeleteFileRequest, metadata: Metadata, call: Call): Promise<publicApi.DeleteFileResponse> {
    const { caller, origin } = await this.callers.userCall(request, metadata, call);
    const freed = await this.files.delete(caller, request.fileId, origin);
    return { success: true, message: 'Deleted', freedBytes: freed };
  }

  async getQuotaStatus(request: publicApi.GetQuotaStatusRequest, metadata: Metadata): Promise<publicApi.GetQuotaStatusResponse> {
    const status = await this.files.quota(await this.callers.user(request, metadata));
    return {
      success: true,
      totalQuotaBytes: status.totalQuotaBytes,
      usedBytes: status.usedBytes,
      availableBytes: status.availableBytes,
      usagePercentage: status.usagePercentage,
      unlimited: status.unlimited,
    };
  }

  async logout(request: publicApi.LogoutRequest, metadata: Metadata, call: Call): Promise<publicApi.LogoutResponse> {
    const { caller, origin } = await this.callers.userCall(request, metadata, call);
    await this.accounts.logout(caller, origin);
    return { success: true, message: 'Signed out' };
  }

  async enrollTotp(request: publicApi.EnrollTotpRequest, metadata: Metadata, call: Call): Promise<publicApi.EnrollTotpResponse> {
    const { caller, origin } = await this.callers.userCall(request, metadata, call);
    const result = await this.accounts.enrollTotp(caller, request.password, origin);
    return { success: true, secret: result.secret, otpauthUri: result.otpauthUri };
  }

  async confirmTotp(
    request: publicApi.ConfirmTotpRequest,
    metadata: Metadata,
    call: Call,
  ): Promise<publicApi.ConfirmTotpResponse> {
    const { caller, origin } = await this.callers.userCall(request, metadata, call);
    return {
      success: true,
      recoveryCodes: await this.accounts.confirmTotp(caller, request.code, origin),
    };
  }

  async disableTotp(
    request: publicApi.DisableTotpRequest,
    metadata: Metadata,
    call: Call,
  ): Promise<publicApi.DisableTotpResponse> {
    const { caller, origin } = await this.callers.userCall(request, metadata, call);
    await this.accounts.disableTotp(caller, request.password, request.code, origin);
    return { success: true };
  }

  async listTrash(request: publicApi.ListTrashRequest, metadata: Metadata): Promise<publicApi.ListTrashResponse> {
    const caller = await this.callers.user(request, metadata);
    const result = await this.files.listTrash(caller, request.limit, request.offset);
    return { success: true, files: result.files.map(fileInfo), totalCount: result.totalCount };
  }

  async restoreFile(
    request: publicApi.RestoreFileRequest,
    metadata: Metadata,
    call: Call,
  ): Promise<publicApi.RestoreFileResponse> {
    const { caller, origin } = await this.callers.userCall(request, metadata, call);
    const file = await this.files.restore(caller, request.fileId, origin);
    return { success: true, file: fileInfo(file) };
  }

  async purgeFile(request: publicApi.PurgeFileRequest, metadata: Metadata, call: Call): Promise<publicApi.PurgeFileResponse> {
    const { caller, origin } = await this.callers.userCall(request, metadata, call);
    const purged = await this.files.purge(caller, request.fileId, origin);
    return { success: true, purgedBytes: purged };
  }

  async changePassword(
    request: publicApi.ChangePasswordRequest,
    metadata: Metadata,
    call: Call,
  ): Promise<publicApi.ChangePasswordResponse> {
    const { caller, origin } = await this.callers.userCall(request, metadata, call);
    await this.accounts.changePassword(caller, request, origin);
    return { success: true, message: 'Password changed; your other sessions are signed out' };
  }

  async requestPasswordReset(
    request: publicApi.RequestPasswordResetRequest,
    metadata: Metadata,
    call: Call,
  ): Promise<publicApi.RequestPasswordResetResponse> {
    await this.accounts.requestPasswordReset(request.email, this.callers.origin(call, metadata));
    return { success: true, message: PASSWORD_RESET_ACCEPTED };
  }

  async confirmPasswordReset(
    request: publicApi.ConfirmPasswordResetRequest,
    metadata: Metadata,
    call: Call,
  ): Promise<publicApi.ConfirmPasswordResetResponse> {
    await this.accounts.confirmPasswordReset(request.token, request.newPassword, this.callers.origin(call, metadata));
    return { success: true, message: 'Password reset; every session is signed out' };
  }

  async listSessions(request: publicApi.ListSessionsRequest, metadata: Metadata): Promise<publicApi.ListSessionsResponse> {
    return { success: true, sessions: await this.accounts.listSessions(await this.callers.user(request, metadata)) };
  }

  async revokeSession(
    request: publicApi.RevokeSessionRequest,
    metadata: Metadata,
    call: Call,
  ): Promise<publicApi.RevokeSessionResponse> {
    const { caller, origin } = await this.callers.userCall(request, metadata, call);
    await this.accounts.revokeSession(caller, request.sessionId, origin);
    return { success: true };
  }

  async logoutAll(request: publicApi.LogoutAllRequest, metadata: Metadata, call: Call): Promise<publicApi.LogoutAllResponse> {
    const { caller, origin } = await this.callers.userCall(request, metadata, call);
    await this.accounts.logoutAll(caller, origin);
    return { success: true, message: 'Every session is signed out' };
  }

  async listAuditEvents(
    request: publicApi.ListAuditEventsRequest,
    metadata: Metadata,
  ): Promise<publicApi.ListAuditEventsResponse> {
    await this.callers.user(request, metadata);
    return { success: true, ...(await this.audit.listOwn(grpcAuditRequest(request))) };
  }

  exportUserData(
    request: publicApi.ExportUserDataRequest,
    metadata: Metadata,
    call: ServerWritableStream<publicApi.ExportUserDataRequest, publicApi.ExportUserDataResponse>,
  ): Observable<never> {
    const send = async () => {
      const { caller, origin } = await this.callers.userCall(request, metadata, call);
      const { archive } = await this.exports.open(caller, origin);
      await writeAll(call, archive, (chunk) => ({ chunk }));
    };
    return from(send()).pipe(ignoreElements());
  }

  async deleteAccount(
    request: publicApi.DeleteAccountRequest,
    metadata: Metadata,
    call: Call,
  ): Promise<publicApi.DeleteAccountResponse> {
    const { caller, origin } = await this.callers.userCall(request, metadata, call);
    return erasureResponse(await this.erasure.eraseOwn(caller, request.password, origin));
  }

  async shareFile(request: publicApi.ShareFileRequest, metadata: Metadata, call: Call): Promise<publicApi.ShareFileResponse> {
    const { caller, origin } = await this.callers.userCall(request, metadata, call);
    const share = await this.shares.share(
      caller,
      { fileId: request.fileId, username: request.username, permission: request.permission },
      origin,
    );
    return { success: true, share: shareInfo(share) };
  }

  async unshareFile(
    request: publicApi.UnshareFileRequest,
    metadata: Metadata,
    call: Call,
  ): Promise<publicApi.UnshareFileResponse> {
    const { origin } = await this.callers.userCall(request, metadata, call);
    await this.shares.unshare(request.fileId, request.username, origin);
    return { success: true };
  }

  async listFileShares(request: publicApi.ListFileSharesRequest, metadata: Metadata): Promise<publicApi.ListFileSharesResponse> {
    await this.callers.user(request, metadata);
    return { success: true, shares: (await this.shares.ofFile(request.fileId)).map(shareInfo) };
  }

  async createUpload(
    request: publicApi.CreateUploadRequest,
    metadata: Metadata,
    call: Call,
  ): Promise<publicApi.CreateUploadResponse> {
    const { caller, origin } = await this.callers.userCall(request, metadata, call);
    const opened = await this.resumable.create(
      caller,
      { filename: request.filename, size: request.size, sha256: request.sha256, fileId: request.fileId },
      origin,
    );
    return { success: true, uploadId: opened.uploadId, fileId: opened.fileId, expiresAt: opened.expiresAt };
  }

  async getUploadStatus(
    request: publicApi.GetUploadStatusRequest,
    metadata: Metadata,
  ): Promise<publicApi.GetUploadStatusResponse> {
    await this.callers.user(request, metadata);
    const status = await this.resumable.status(request.uploadId);
    return {
      success: true,
      uploadId: status.uploadId,
      fileId: status.fileId,
      offset: status.offset,
      size: status.declaredSize,
      expiresAt: status.expiresAt,
    };
  }

  async listFileVersions(
    request: publicApi.ListFileVersionsRequest,
    metadata: Metadata,
  ): Promise<publicApi.ListFileVersionsResponse> {
    await this.callers.user(request, metadata);
    return { success: true, versions: (await this.files.versions(request.fileId)).map(versionInfo) };
  }

  async restoreFileVersion(
    request: publicApi.RestoreFileVersionRequest,
    metadata: Metadata,
    call: Call,
  ): Promise<publicApi.RestoreFileVersionResponse> {
    const { origin } = await this.callers.userCall(request, metadata, call);
    return { success: true, file: fileInfo(await this.files.restoreVersion(request.fileId, request.versionId, origin)) };
  }

  async listSharedWithMe(
    request: publicApi.ListSharedWithMeRequest,
    metadata: Metadata,
  ): Promise<publicApi.ListSharedWithMeResponse> {
    await this.callers.user(request, metadata);
    const page = await this.shares.sharedWithMe(request.limit, request.offset);
    return {
      success: true,
      files: page.shares.map((share) => ({
        file: fileInfo(share.file as filesApi.FileRecord),
        ownerUsername: share.ownerUsername,
        permission: share.permission,
        sharedAt: share.createdAt,
      })),
      totalCount: page.totalCount,
    };
  }
}

function versionInfo(version: filesApi.FileVersion): publicApi.FileVersionInfo {
  return {
    versionId: version.versionId,
    version: version.version,
    fileSize: version.size,
    checksum: version.sha256,
    uploadedAt: version.uploadedAt,
    current: version.current,
    filename: version.filename,
  };
}

function shareInfo(share: filesApi.FileShare): publicApi.ShareInfo {
  return {
    fileId: share.file?.fileId ?? '',
    username: share.granteeUsername,
    permission: share.permission,
    createdAt: share.createdAt,
  };
}
