import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CallOptions, type ChannelCredentials, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { CloudStorageError, fromGrpcError, fromProblem } from './errors';
import {
  abortError,
  type DownloadStream,
  openDownloadStream,
  type ProgressCallback,
  readSource,
  sendUpload,
  type UploadSource,
} from './file-transfers';
import {
  AdminServiceClient,
  DownloadFileRequest,
  ExportUserDataRequest,
  ChangePasswordRequest,
  ConfirmPasswordResetRequest,
  ConfirmTotpRequest,
  CreateUploadRequest,
  DeleteAccountRequest,
  DeleteFileRequest,
  DeleteUserRequest,
  DisableTotpRequest,
  DrainNodeRequest,
  EnrollTotpRequest,
  GetClusterStatusRequest,
  GetQuotaStatusRequest,
  GetUploadStatusRequest,
  ListAllAuditEventsRequest,
  ListAuditEventsRequest,
  ListFileSharesRequest,
  ListFileVersionsRequest,
  ListFilesRequest,
  ListSessionsRequest,
  ListSharedWithMeRequest,
  ListTrashRequest,
  ListUsersRequest,
  LoginRequest,
  LogoutAllRequest,
  LogoutRequest,
  PurgeFileRequest,
  RefreshTokenRequest,
  RegisterRequest,
  RequestPasswordResetRequest,
  RestoreFileRequest,
  RestoreFileVersionRequest,
  RevokeSessionRequest,
  ShareFileRequest,
  UnshareFileRequest,
  UpdateUserRequest,
  VerifyOTPRequest,
  type AuditEvent,
  type ClusterNode,
  CloudStorageServiceClient,
  type FileInfo,
  type FileVersionInfo,
  type GetClusterStatusResponse,
  type GetQuotaStatusResponse,
  type JobCounts,
  type SessionInfo,
  type ShareInfo,
  type SharedFile,
  type UploadFileResponse,
  type UserInfo,
} from './generated/cloudstorage/v1/cloud_storage';

export type {
  AuditEvent,
  ClusterNode,
  FileInfo,
  FileVersionInfo,
  GetClusterStatusResponse as ClusterStatus,
  GetQuotaStatusResponse as QuotaStatus,
  JobCounts,
  SessionInfo,
  ShareInfo,
  SharedFile,
  UserInfo,
};

/** A signed-in session's tokens (Unix seconds for the times). */
export interface Tokens {
  readonly accessToken: string;
  readonly expiresAt: number;
  readonly refreshToken: string;
  readonly refreshExpiresAt: number;
}

export interface ClientOptions {
  /** `host:port` of the gateway's gRPC API. */
  readonly address: string;
  /** PEM of the CA that signed the gateway's certificate: the connection uses TLS. Without it, plaintext (development only). */
  readonly ca?: string | Buffer;
  /** The REST API's base URL (`http://host:8080`), for what only REST offers: download links. */
  readonly restUrl?: string;
  /** The tokens of an earlier sign-in, to go on with it. */
  readonly tokens?: Tokens;
  /** Told of every new pair of tokens (sign-in, refresh) and of sign-out (undefined): to keep them. */
  readonly onTokens?: (tokens: Tokens | undefined) => void;
  /** Deadline of each call but transfers, in ms (default 30 s). */
  readonly timeoutMs?: number;
  /** Attempts of a resumable upload after the connection breaks or the cluster is busy (default 5). */
  readonly uploadAttempts?: number;
}

export interface UploadOptions {
  /** The file's name; by default the path's last part (required for bytes and streams). */
  readonly filename?: string;
  /** A UUID for the new file, or the id of a file of yours: the upload becomes its new version. */
  readonly fileId?: string;
  /** The size of a stream, when known: reserved at once, and checked. */
  readonly size?: number;
  readonly onProgress?: ProgressCallback;
  /** Goes on with this resumable upload (of the same bytes) from where the cluster stands. */
  readonly uploadId?: string;
  /** Told the id of the resumable upload as soon as it exists, to go on with it after a crash. */
  readonly onUploadCreated?: (uploadId: string) => void;
  readonly signal?: AbortSignal;
}

export interface DownloadOptions {
  /** An earlier version, by its `versionId`. */
  readonly versionId?: string;
  /** downloadFile: replaces a file already at the target (by default, INVALID_ARGUMENT). */
  readonly overwrite?: boolean;
  readonly onProgress?: ProgressCallback;
  readonly signal?: AbortSignal;
}

export interface UploadedFile {
  readonly fileId: string;
  readonly fileSize: number;
  readonly checksum: string;
  readonly storageNodes: string[];
}

export interface DownloadedFile {
  readonly fileId: string;
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export interface DownloadLink {
  readonly linkId: string;
  readonly fileId: string;
  /** The link itself: shown only when it is made. */
  readonly url?: string;
  readonly expiresAt: number;
  readonly createdAt: number;
  readonly hasPassword: boolean;
}

/** Refreshed this long before the access token expires. */
const REFRESH_MARGIN_SECONDS = 60;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_UPLOAD_ATTEMPTS = 5;

type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/**
 * The cloudstore API for TypeScript: accounts and sign-in, files (streamed uploads that resume,
 * verified downloads), trash, sharing, links, versions, sessions, and the admin's calls. Failed
 * calls throw CloudStorageError with the API's code. The access token is refreshed as it nears
 * its expiry, and once more when the server says it expired.
 */
export class CloudStorageClient {
  private readonly service: CloudStorageServiceClient;
  private readonly admin: AdminServiceClient;
  private tokens: Tokens | undefined;
  private refreshing: Promise<Tokens> | undefined;

  constructor(private readonly options: ClientOptions) {
    const channel: ChannelCredentials = options.ca
      ? credentials.createSsl(Buffer.from(options.ca))
      : credentials.createInsecure();
    this.service = new CloudStorageServiceClient(options.address, channel);
    this.admin = new AdminServiceClient(options.address, channel);
    this.tokens = options.tokens;
  }

  /** The tokens of the session, if signed in. */
  get session(): Tokens | undefined {
    return this.tokens;
  }

  /** Closes the connection; the client is not used after. */
  close(): void {
    this.service.close();
    this.admin.close();
  }

  // Accounts and sign-in

  async register(username: string, email: string, password: string): Promise<{ userId: string; createdAt: number }> {
    const answer = await this.unary(
      this.service.register.bind(this.service),
      RegisterRequest.fromPartial({
        username,
        email,
        password,
      }),
    );
    return { userId: answer.userId, createdAt: answer.createdAt };
  }

  /** The first step of a sign-in: the code is mailed (`otpMethod` `email`) or is the authenticator's (`totp`). */
  async login(username: string, password: string): Promise<{ sessionId: string; otpMethod: string; otpExpiresAt: number }> {
    const answer = await this.unary(this.service.login.bind(this.service), LoginRequest.fromPartial({ username, password }));
    return { sessionId: answer.sessionId, otpMethod: answer.otpMethod, otpExpiresAt: answer.otpExpiresAt };
  }

  /** The second step: the session's tokens, kept by the client (and told to `onTokens`). */
  async verifyOtp(sessionId: string, otp: string): Promise<Tokens> {
    const answer = await this.unary(this.service.verifyOtp.bind(this.service), VerifyOTPRequest.fromPartial({ sessionId, otp }));
    return this.keep({
      accessToken: answer.authToken,
      expiresAt: answer.expiresAt,
      refreshToken: answer.refreshToken,
      refreshExpiresAt: answer.refreshExpiresAt,
    });
  }

  /** New tokens for the session (the refresh token is rotated). */
  refreshToken(): Promise<Tokens> {
    this.refreshing ??= (async () => {
      const tokens = this.signedIn();
      const answer = await this.unary(
        this.service.refreshToken.bind(this.service),
        RefreshTokenRequest.fromPartial({ refreshToken: tokens.refreshToken, currentToken: '' }),
      );
      return this.keep({
        accessToken: answer.newToken,
        expiresAt: answer.expiresAt,
        refreshToken: answer.refreshToken,
        refreshExpiresAt: answer.refreshExpiresAt,
      });
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Who the session is (REST): the account's id, name and role, and when the access token expires. */
  async whoami(): Promise<{ userId: string; username: string; role: string; expiresAt: number }> {
    const me = (await this.rest('GET', '/v1/auth/me')) as { user_id: string; username: string; role: string; expires_at: number };
    return { userId: me.user_id, username: me.username, role: me.role, expiresAt: me.expires_at };
  }

  /** Ends the session: the tokens are revoked and forgotten. */
  async logout(): Promise<void> {
    await this.authed(this.service.logout.bind(this.service), LogoutRequest.fromPartial({}));
    this.forget();
  }

  /** Ends every session of the account, this one too. */
  async logoutAll(): Promise<void> {
    await this.authed(this.service.logoutAll.bind(this.service), LogoutAllRequest.fromPartial({}));
    this.forget();
  }

  async listSessions(): Promise<SessionInfo[]> {
    return (await this.authed(this.service.listSessions.bind(this.service), ListSessionsRequest.fromPartial({}))).sessions;
  }

  async revokeSession(sessionId: string): Promise<void> {
    await this.authed(this.service.revokeSession.bind(this.service), RevokeSessionRequest.fromPartial({ sessionId }));
  }

  /** Changes the password; every other session ends. */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await this.authed(
      this.service.changePassword.bind(this.service),
      ChangePasswordRequest.fromPartial({ currentPassword, newPassword }),
    );
  }

  async requestPasswordReset(email: string): Promise<void> {
    await this.unary(this.service.requestPasswordReset.bind(this.service), RequestPasswordResetRequest.fromPartial({ email }));
  }

  async confirmPasswordReset(token: string, newPassword: string): Promise<void> {
    await this.unary(
      this.service.confirmPasswordReset.bind(this.service),
      ConfirmPasswordResetRequest.fromPartial({ token, newPassword }),
    );
  }

  /** Starts enrolling an authenticator app: its secret and `otpauth://` URI (for a QR code). */
  async enrollTotp(password: string): Promise<{ secret: string; otpauthUri: string }> {
    const answer = await this.authed(this.service.enrollTotp.bind(this.service), EnrollTotpRequest.fromPartial({ password }));
    return { secret: answer.secret, otpauthUri: answer.otpauthUri };
  }

  /** Confirms the authenticator with its current code: the recovery codes, shown this once. */
  async confirmTotp(code: string): Promise<string[]> {
    return (await this.authed(this.service.confirmTotp.bind(this.service), ConfirmTotpRequest.fromPartial({ code })))
      .recoveryCodes;
  }

  async disableTotp(code: string, password: string): Promise<void> {
    await this.authed(this.service.disableTotp.bind(this.service), DisableTotpRequest.fromPartial({ code, password }));
  }

  /** Erases the account and everything in it (the password asked again). */
  async deleteAccount(password: string): Promise<{ filesErased: number }> {
    const answer = await this.authed(
      this.service.deleteAccount.bind(this.service),
      DeleteAccountRequest.fromPartial({
        password,
      }),
    );
    this.forget();
    return { filesErased: answer.filesErased };
  }

  /** The account's data (GDPR export) as a tar archive, streamed. */
  async exportUserData(): Promise<Readable> {
    const metadata = await this.authMetadata();
    const call = this.service.exportUserData(ExportUserDataRequest.fromPartial({}), metadata);
    async function* chunks(): AsyncGenerator<Buffer> {
      try {
        for await (const message of call as AsyncIterable<{ chunk: Uint8Array }>) yield Buffer.from(message.chunk);
      } catch (error) {
        throw fromGrpcError(error as ServiceError);
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  // Files

  /**
   * Uploads a file, streamed: from a path or bytes, resumably (a broken connection or a busy
   * cluster is retried from where the cluster stands, never sending stored bytes again); from a
   * stream, in one go. The size is reserved in the quota before any byte is sent, when known.
   */
  async uploadFile(source: UploadSource, options: UploadOptions = {}): Promise<UploadedFile> {
    const filename = options.filename ?? (typeof source === 'string' ? basename(source) : '');
    if (!filename) throw new CloudStorageError('INVALID_FILENAME', 'A filename is needed to upload bytes or a stream');
    if (source instanceof Readable) return this.uploadStream(source, filename, options);
    const size = typeof source === 'string' ? (await stat(source)).size : source.length;
    let uploadId = options.uploadId;
    if (!uploadId) {
      const created = await this.authed(
        this.service.createUpload.bind(this.service),
        CreateUploadRequest.fromPartial({ filename, size, sha256: '', fileId: options.fileId ?? '' }),
      );
      uploadId = created.uploadId;
      options.onUploadCreated?.(uploadId);
    }
    const attempts = this.options.uploadAttempts ?? DEFAULT_UPLOAD_ATTEMPTS;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.continueUpload(source, uploadId, size, options);
      } catch (error) {
        if (options.signal?.aborted || !(error instanceof CloudStorageError) || !error.retriable || attempt >= attempts)
          throw error;
        await sleep(Math.min(8_000, 250 * 2 ** attempt), undefined, options.signal ? { signal: options.signal } : {}).catch(
          () => {
            throw abortError(options.signal as AbortSignal);
          },
        );
      }
    }
  }

  /** Sends the source's bytes from where the upload stands; with every byte stored, only asks for the commit. */
  private async continueUpload(
    source: string | Uint8Array,
    uploadId: string,
    size: number,
    options: UploadOptions,
  ): Promise<UploadedFile> {
    const status = await this.getUploadStatus(uploadId);
    let sent = status.offset;
    options.onProgress?.(sent, size);
    const send = (body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) =>
      this.authMetadata().then((metadata) =>
        sendUpload(
          this.service,
          metadata,
          { uploadId, offset: status.offset },
          body,
          (bytes) => options.onProgress?.((sent += bytes), size),
          options.signal,
        ),
      );
    if (status.offset < size) return uploaded(await send(readSource(source, status.offset)));
    try {
      // Every byte is stored: an empty stream commits the upload, unless it was committed already.
      return uploaded(await send([]));
    } catch (error) {
      if (!(error instanceof CloudStorageError && error.code === 'FILE_NOT_FOUND')) throw error;
      // Committed before, its answer lost: the file is there.
      return { fileId: status.fileId, fileSize: size, checksum: await sha256Of(source), storageNodes: [] };
    }
  }

  /** Where a resumable upload stands: `offset` bytes stored (its size once it is finished). */
  async getUploadStatus(
    uploadId: string,
  ): Promise<{ uploadId: string; fileId: string; offset: number; size: number; expiresAt: number }> {
    const answer = await this.authed(
      this.service.getUploadStatus.bind(this.service),
      GetUploadStatusRequest.fromPartial({ uploadId }),
    );
    return {
      uploadId: answer.uploadId,
      fileId: answer.fileId,
      offset: answer.offset,
      size: answer.size,
      expiresAt: answer.expiresAt,
    };
  }

  /** Opens a download: the file's size, name and SHA-256, and its bytes as a stream that fails if they do not match. */
  async openDownload(fileId: string, options: DownloadOptions = {}): Promise<DownloadStream> {
    const metadata = await this.authMetadata();
    const call = this.service.downloadFile(
      DownloadFileRequest.fromPartial({ fileId, versionId: options.versionId ?? '' }),
      metadata,
    );
    const download = await openDownloadStream(fileId, call, options.signal);
    if (!options.onProgress) return download;
    let received = 0;
    const counting = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        options.onProgress?.(received, download.size);
        done(null, chunk);
      },
    });
    // Destroyed together, whichever side fails or stops first.
    download.stream.on('error', (error) => counting.destroy(error));
    counting.once('close', () => download.stream.destroy());
    return { ...download, stream: download.stream.pipe(counting) };
  }

  /**
   * Downloads a file to `path` (a directory gets the file's own name), verified: the bytes land
   * in `<path>.part`, renamed once their SHA-256 matched; nothing is left on failure. A file
   * already there is kept (INVALID_ARGUMENT) unless `overwrite`.
   */
  async downloadFile(fileId: string, path: string, options: DownloadOptions = {}): Promise<DownloadedFile> {
    const download = await this.openDownload(fileId, options);
    const toFolder = (await stat(path).catch(() => undefined))?.isDirectory() === true;
    // The name is the owner's choice (a sharer's, for a shared file): never a path, never . or ..
    const name = basename(download.filename);
    const target = toFolder ? join(path, name && name !== '.' && name !== '..' ? name : fileId) : path;
    const partial = `${target}.part`;
    try {
      if (!options.overwrite && (await stat(target).catch(() => undefined)))
        throw new CloudStorageError('INVALID_ARGUMENT', `${target} exists: overwrite it explicitly`);
      // A leftover (or planted) partial file is replaced, not followed: opened only if it does not exist.
      await rm(partial, { force: true });
      await pipeline(
        download.stream,
        createWriteStream(partial, { mode: 0o600, flags: 'wx' }),
        options.signal ? { signal: options.signal } : {},
      );
      await rename(partial, target);
    } catch (error) {
      download.stream.destroy();
      await rm(partial, { force: true });
      throw options.signal?.aborted ? abortError(options.signal) : error;
    }
    return { fileId, path: target, size: download.size, sha256: download.sha256 };
  }

  async listFiles(
    options: { limit?: number; offset?: number; filter?: string } = {},
  ): Promise<{ files: FileInfo[]; totalCount: number }> {
    const answer = await this.authed(
      this.service.listFiles.bind(this.service),
      ListFilesRequest.fromPartial({ limit: options.limit ?? 0, offset: options.offset ?? 0, filter: options.filter ?? '' }),
    );
    return { files: answer.files, totalCount: answer.totalCount };
  }

  /** Moves the file (with its versions) to the trash: the bytes freed from the quota. */
  async deleteFile(fileId: string): Promise<number> {
    return (await this.authed(this.service.deleteFile.bind(this.service), DeleteFileRequest.fromPartial({ fileId }))).freedBytes;
  }

  async getQuotaStatus(): Promise<GetQuotaStatusResponse> {
    return this.authed(this.service.getQuotaStatus.bind(this.service), GetQuotaStatusRequest.fromPartial({}));
  }

  // Trash

  async listTrash(options: { limit?: number; offset?: number } = {}): Promise<{ files: FileInfo[]; totalCount: number }> {
    const answer = await this.authed(
      this.service.listTrash.bind(this.service),
      ListTrashRequest.fromPartial({ limit: options.limit ?? 0, offset: options.offset ?? 0 }),
    );
    return { files: answer.files, totalCount: answer.totalCount };
  }

  async restoreFile(fileId: string): Promise<FileInfo> {
    return present(
      (await this.authed(this.service.restoreFile.bind(this.service), RestoreFileRequest.fromPartial({ fileId }))).file,
    );
  }

  /** Deletes a file in the trash for good: the bytes purged. */
  async purgeFile(fileId: string): Promise<number> {
    return (await this.authed(this.service.purgeFile.bind(this.service), PurgeFileRequest.fromPartial({ fileId }))).purgedBytes;
  }

  // Sharing

  /** Lets another user read the file (`read` is the one permission). */
  async shareFile(fileId: string, username: string, permission = 'read'): Promise<ShareInfo> {
    return present(
      (
        await this.authed(
          this.service.shareFile.bind(this.service),
          ShareFileRequest.fromPartial({
            fileId,
            username,
            permission,
          }),
        )
      ).share,
    );
  }

  async unshareFile(fileId: string, username: string): Promise<void> {
    await this.authed(this.service.unshareFile.bind(this.service), UnshareFileRequest.fromPartial({ fileId, username }));
  }

  async listFileShares(fileId: string): Promise<ShareInfo[]> {
    return (await this.authed(this.service.listFileShares.bind(this.service), ListFileSharesRequest.fromPartial({ fileId })))
      .shares;
  }

  async listSharedWithMe(
    options: { limit?: number; offset?: number } = {},
  ): Promise<{ files: SharedFile[]; totalCount: number }> {
    const answer = await this.authed(
      this.service.listSharedWithMe.bind(this.service),
      ListSharedWithMeRequest.fromPartial({ limit: options.limit ?? 0, offset: options.offset ?? 0 }),
    );
    return { files: answer.files, totalCount: answer.totalCount };
  }

  // Download links (REST)

  /** A link that downloads the file without a token until it expires, optionally asking for a password. */
  async createDownloadLink(fileId: string, options: { expiresInSeconds: number; password?: string }): Promise<DownloadLink> {
    const body = { expires_in_seconds: options.expiresInSeconds, ...(options.password ? { password: options.password } : {}) };
    return linkOf(await this.rest('POST', `/v1/files/${encodeURIComponent(fileId)}/links`, body));
  }

  async listDownloadLinks(fileId: string): Promise<DownloadLink[]> {
    const answer = (await this.rest('GET', `/v1/files/${encodeURIComponent(fileId)}/links`)) as { links: unknown[] };
    return answer.links.map(linkOf);
  }

  async revokeDownloadLink(fileId: string, linkId: string): Promise<void> {
    await this.rest('DELETE', `/v1/files/${encodeURIComponent(fileId)}/links/${encodeURIComponent(linkId)}`);
  }

  // Versions

  async listFileVersions(fileId: string): Promise<FileVersionInfo[]> {
    return (
      await this.authed(
        this.service.listFileVersions.bind(this.service),
        ListFileVersionsRequest.fromPartial({
          fileId,
        }),
      )
    ).versions;
  }

  /** Makes an earlier version the file's content (the content before is kept as a version). */
  async restoreFileVersion(fileId: string, versionId: string): Promise<FileInfo> {
    return present(
      (
        await this.authed(
          this.service.restoreFileVersion.bind(this.service),
          RestoreFileVersionRequest.fromPartial({
            fileId,
            versionId,
          }),
        )
      ).file,
    );
  }

  // Audit

  async listAuditEvents(
    options: { limit?: number; cursor?: string; operation?: string; outcome?: string; from?: number; to?: number } = {},
  ): Promise<{ events: AuditEvent[]; nextCursor: string }> {
    const answer = await this.authed(
      this.service.listAuditEvents.bind(this.service),
      ListAuditEventsRequest.fromPartial(auditQuery(options)),
    );
    return { events: answer.events, nextCursor: answer.nextCursor };
  }

  // Administration (the admin role)

  async listUsers(
    options: { limit?: number; offset?: number; filter?: string } = {},
  ): Promise<{ users: UserInfo[]; totalCount: number }> {
    const answer = await this.authed(
      this.admin.listUsers.bind(this.admin),
      ListUsersRequest.fromPartial({ limit: options.limit ?? 0, offset: options.offset ?? 0, filter: options.filter ?? '' }),
    );
    return { users: answer.users, totalCount: answer.totalCount };
  }

  /** Changes a user's role, whether the account is active, or its quota (bytes; 0 for unlimited). */
  async updateUser(userId: string, changes: { role?: string; active?: boolean; quotaBytes?: number }): Promise<UserInfo> {
    return this.authed(this.admin.updateUser.bind(this.admin), UpdateUserRequest.fromPartial({ userId, ...changes }));
  }

  async deleteUser(userId: string): Promise<{ filesErased: number }> {
    const answer = await this.authed(this.admin.deleteUser.bind(this.admin), DeleteUserRequest.fromPartial({ userId }));
    return { filesErased: answer.filesErased };
  }

  /** The storage nodes and their state, the chunks short of copies, and the repair queue. */
  async getClusterStatus(): Promise<GetClusterStatusResponse> {
    return this.authed(this.admin.getClusterStatus.bind(this.admin), GetClusterStatusRequest.fromPartial({}));
  }

  /** Moves every chunk off a node, which then takes no new ones. */
  async drainNode(nodeId: string): Promise<ClusterNode> {
    return present((await this.authed(this.admin.drainNode.bind(this.admin), DrainNodeRequest.fromPartial({ nodeId }))).node);
  }

  async listAllAuditEvents(
    options: {
      limit?: number;
      cursor?: string;
      operation?: string;
      outcome?: string;
      from?: number;
      to?: number;
      userId?: string;
    } = {},
  ): Promise<{ events: AuditEvent[]; nextCursor: string }> {
    const answer = await this.authed(
      this.admin.listAllAuditEvents.bind(this.admin),
      ListAllAuditEventsRequest.fromPartial({ ...auditQuery(options), userId: options.userId ?? '' }),
    );
    return { events: answer.events, nextCursor: answer.nextCursor };
  }

  // Plumbing

  private async uploadStream(source: Readable, filename: string, options: UploadOptions): Promise<UploadedFile> {
    const metadata = await this.authMetadata();
    if (options.size !== undefined) metadata.set('x-file-size', String(options.size));
    let sent = 0;
    const answer = await sendUpload(
      this.service,
      metadata,
      { filename, fileId: options.fileId ?? '' },
      source,
      (bytes) => options.onProgress?.((sent += bytes), options.size),
      options.signal,
    );
    return uploaded(answer);
  }

  private keep(tokens: Tokens): Tokens {
    this.tokens = tokens;
    this.options.onTokens?.(tokens);
    return tokens;
  }

  private forget(): void {
    this.tokens = undefined;
    this.options.onTokens?.(undefined);
  }

  private signedIn(): Tokens {
    if (!this.tokens) throw new CloudStorageError('TOKEN_INVALID', 'Not signed in: log in first');
    return this.tokens;
  }

  /** `authorization: Bearer …`, the token refreshed first when it is about to expire. */
  private async authMetadata(): Promise<Metadata> {
    let tokens = this.signedIn();
    const now = Date.now() / 1000;
    if (tokens.expiresAt - now < REFRESH_MARGIN_SECONDS && tokens.refreshToken && tokens.refreshExpiresAt > now)
      tokens = await this.refreshToken();
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${tokens.accessToken}`);
    return metadata;
  }

  private unary<Req, Res>(method: Unary<Req, Res>, request: Req, metadata = new Metadata()): Promise<Res> {
    return new Promise((resolve, reject) => {
      const deadline = new Date(Date.now() + (this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS));
      method(request, metadata, { deadline }, (error, response) => (error ? reject(fromGrpcError(error)) : resolve(response)));
    });
  }

  /** A call as the signed-in user; a token the server found expired is refreshed and the call made once more. */
  private async authed<Req, Res>(method: Unary<Req, Res>, request: Req): Promise<Res> {
    try {
      return await this.unary(method, request, await this.authMetadata());
    } catch (error) {
      if (!(error instanceof CloudStorageError) || error.code !== 'TOKEN_EXPIRED' || !this.tokens?.refreshToken) throw error;
      await this.refreshToken();
      return this.unary(method, request, await this.authMetadata());
    }
  }

  private async rest(method: string, path: string, body?: object): Promise<unknown> {
    if (!this.options.restUrl)
      throw new CloudStorageError('INVALID_ARGUMENT', 'This call needs the REST API: give the client restUrl');
    const send = async () =>
      fetch(`${this.options.restUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.signedIn().accessToken}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
    await this.authMetadata();
    let response = await send().catch((error: unknown) => {
      throw new CloudStorageError('NETWORK_ERROR', `Could not reach ${this.options.restUrl}`, undefined, { cause: error });
    });
    if (response.status === 401 && this.tokens?.refreshToken) {
      await this.refreshToken();
      response = await send();
    }
    if (!response.ok) throw await fromProblem(response);
    return response.status === 204 ? undefined : response.json();
  }
}

function uploaded(answer: UploadFileResponse): UploadedFile {
  return { fileId: answer.fileId, fileSize: answer.fileSize, checksum: answer.checksum, storageNodes: answer.storageNodes };
}

function present<T>(value: T | undefined): T {
  if (value === undefined) throw new CloudStorageError('INTERNAL_ERROR', 'The server’s answer was incomplete');
  return value;
}

function auditQuery(options: {
  limit?: number;
  cursor?: string;
  operation?: string;
  outcome?: string;
  from?: number;
  to?: number;
}) {
  return {
    limit: options.limit ?? 0,
    cursor: options.cursor ?? '',
    operation: options.operation ?? '',
    outcome: options.outcome ?? '',
    from: options.from ?? 0,
    to: options.to ?? 0,
  };
}

function linkOf(value: unknown): DownloadLink {
  const link = value as {
    link_id: string;
    file_id: string;
    url?: string;
    expires_at: number;
    created_at: number;
    has_password: boolean;
  };
  return {
    linkId: link.link_id,
    fileId: link.file_id,
    ...(link.url ? { url: link.url } : {}),
    expiresAt: link.expires_at,
    createdAt: link.created_at,
    hasPassword: link.has_password,
  };
}

/** The SHA-256 of a whole source, read again. */
async function sha256Of(source: string | Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of readSource(source, 0)) hash.update(piece);
  return hash.digest('hex');
}
