import type { Metadata, sendUnaryData, ServerReadableStream, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod, GrpcStreamCall } from '@nestjs/microservices';
import { CLOUD_STORAGE_SERVICE, InvalidArgumentError, publicApi } from '@cloudstore/contracts';
import { answerStreamCall, writeAll } from '@cloudstore/grpc';
import type { GatewayConfig } from '@cloudstore/config';
import { LOGGER, type Logger, Metrics } from '@cloudstore/observability';
import { from, ignoreElements, type Observable } from 'rxjs';
import { RequestAuthenticator } from '../auth/request-authenticator';
import { RequestOrigins } from '../auth/request-origins';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { DownloadService } from './download.service';
import { fileInfo, FilesService } from './files.service';
import { ClientGoneError, UploadService } from './upload.service';

const SERVICE = CLOUD_STORAGE_SERVICE.serviceName;
/** Bytes per DownloadFileResponse message. */
const MESSAGE_BYTES = 1024 * 1024;

type UploadCall = ServerReadableStream<publicApi.UploadFileRequest, publicApi.UploadFileResponse>;

/** UploadFile metadata with the file's size in decimal bytes: its quota is reserved before any byte is stored. */
const FILE_SIZE_METADATA_KEY = 'x-file-size';

/** The size the client declared, by metadata or in the first message's file_size; -1 when none. */
function declaredSize(first: publicApi.UploadFileRequest, metadata: Metadata): number {
  const inMessage = first.fileSize > 0 ? first.fileSize : -1;
  const values = metadata.get(FILE_SIZE_METADATA_KEY);
  if (values.length === 0) return inMessage;
  const raw = values.length === 1 ? values[0] : undefined;
  const size = typeof raw === 'string' && /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(size)) throw new InvalidArgumentError(`${FILE_SIZE_METADATA_KEY} must be one decimal byte count`);
  if (inMessage >= 0 && inMessage !== size) throw new InvalidArgumentError(`${FILE_SIZE_METADATA_KEY} and file_size disagree`);
  return size;
}

/**
 * How long an upload of undeclared size waits, after the client's last message, for a cancel.
 * grpc-js clients cancel by ending the stream and then resetting it: the end arrives first, and
 * without a declared size a cancelled upload would look complete.
 */
const CANCEL_SETTLE_MS = 50;

function settleCancellation(call: UploadCall): Promise<void> {
  if (call.cancelled) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, CANCEL_SETTLE_MS);
    function done() {
      clearTimeout(timer);
      call.off('cancelled', done);
      resolve();
    }
    call.once('cancelled', done);
  });
}

/** Splits verified chunks into messages, the last one marked is_final. */
async function* downloadMessages(body: AsyncIterable<Buffer>): AsyncGenerator<publicApi.DownloadFileResponse> {
  let pending: Buffer | undefined;
  for await (const data of body) {
    for (let offset = 0; offset < data.length; offset += MESSAGE_BYTES) {
      if (pending) yield { chunk: pending, isFinal: false };
      pending = data.subarray(offset, offset + MESSAGE_BYTES);
    }
  }
  yield { chunk: pending ?? Buffer.alloc(0), isFinal: true };
}

/** The storage and trash RPCs of the public CloudStorageService. */
@Controller()
export class FilesGrpcController {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly uploads: UploadService,
    private readonly downloads: DownloadService,
    private readonly files: FilesService,
    private readonly authenticator: RequestAuthenticator,
    private readonly origins: RequestOrigins,
    private readonly metrics: Metrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The first message carries auth_token and filename (and optionally file_id); any message may carry bytes. */
  @GrpcStreamCall(SERVICE, 'UploadFile')
  uploadFile(call: UploadCall, callback: sendUnaryData<publicApi.UploadFileResponse>): Promise<void> {
    const observation = { metrics: this.metrics, logger: this.logger, grpcService: SERVICE, grpcMethod: 'UploadFile' };
    return answerStreamCall(callback, observation, async () => {
      const messages = call[Symbol.asyncIterator]() as AsyncIterator<publicApi.UploadFileRequest>;
      const first = await messages.next();
      if (first.done) throw new InvalidArgumentError('UploadFile needs a first message with auth_token and filename');
      const caller = await this.authenticator.fromGrpc(first.value.authToken, call.metadata);
      if (!first.value.filename) throw new InvalidArgumentError('The first message must carry the filename');
      const firstChunk = first.value.chunk;
      const size = declaredSize(first.value, call.metadata);
      const idleMs = this.config.TRANSFER_IDLE_TIMEOUT_SECONDS * 1000;
      async function* bytes(): AsyncGenerator<Uint8Array> {
        if (firstChunk.length > 0) yield firstChunk;
        for (;;) {
          let next: IteratorResult<publicApi.UploadFileRequest>;
          let idle: NodeJS.Timeout | undefined;
          try {
            next = await Promise.race([
              messages.next(),
              new Promise<never>((_, reject) => {
                idle = setTimeout(
                  () => reject(new InvalidArgumentError(`No bytes came for ${idleMs / 1000} s: the upload was dropped`)),
                  idleMs,
                );
              }),
            ]);
          } catch (error) {
            if (error instanceof InvalidArgumentError) throw error;
            // The stream was destroyed under us: the client cancelled or the connection dropped.
            throw new ClientGoneError();
          } finally {
            clearTimeout(idle);
          }
          if (next.done) break;
          yield next.value.chunk;
        }
        if (size < 0) await settleCancellation(call);
        if (call.cancelled) throw new ClientGoneError();
      }
      const file = await this.uploads.upload(bytes(), {
        caller,
        filename: first.value.filename,
        declaredSize: size,
        contentType: 'application/octet-stream',
        fileId: first.value.fileId,
        origin: this.origins.grpc(call, call.metadata),
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

  @GrpcMethod(SERVICE, 'DownloadFile')
  downloadFile(
    request: publicApi.DownloadFileRequest,
    metadata: Metadata,
    call: ServerWritableStream<publicApi.DownloadFileRequest, publicApi.DownloadFileResponse>,
  ): Observable<never> {
    const send = async () => {
      const caller = await this.authenticator.fromGrpc(request.authToken, metadata);
      const download = await this.downloads.open(caller, request.fileId, undefined, this.origins.grpc(call, metadata));
      await writeAll(call, downloadMessages(download.body), (message) => message);
    };
    return from(send()).pipe(ignoreElements());
  }

  @GrpcMethod(SERVICE, 'ListFiles')
  async listFiles(request: publicApi.ListFilesRequest, metadata: Metadata): Promise<publicApi.ListFilesResponse> {
    const caller = await this.authenticator.fromGrpc(request.authToken, metadata);
    if (request.limit < 0 || request.offset < 0) throw new InvalidArgumentError('limit and offset must not be negative');
    const result = await this.files.list(caller, request.limit, request.offset, request.filter);
    return {
      success: true,
      files: result.files.map(fileInfo),
      totalCount: result.totalCount,
    };
  }

  @GrpcMethod(SERVICE, 'DeleteFile')
  async deleteFile(
    request: publicApi.DeleteFileRequest,
    metadata: Metadata,
    call: ServerUnaryCall<unknown, unknown>,
  ): Promise<publicApi.DeleteFileResponse> {
    const caller = await this.authenticator.fromGrpc(request.authToken, metadata);
    const freed = await this.files.delete(caller, request.fileId, this.origins.grpc(call, metadata));
    return { success: true, message: 'Deleted', freedBytes: freed };
  }

  @GrpcMethod(SERVICE, 'ListTrash')
  async listTrash(request: publicApi.ListTrashRequest, metadata: Metadata): Promise<publicApi.ListTrashResponse> {
    const caller = await this.authenticator.fromGrpc(request.authToken, metadata);
    if (request.limit < 0 || request.offset < 0) throw new InvalidArgumentError('limit and offset must not be negative');
    const result = await this.files.listTrash(caller, request.limit, request.offset);
    return { success: true, files: result.files.map(fileInfo), totalCount: result.totalCount };
  }

  @GrpcMethod(SERVICE, 'RestoreFile')
  async restoreFile(
    request: publicApi.RestoreFileRequest,
    metadata: Metadata,
    call: ServerUnaryCall<unknown, unknown>,
  ): Promise<publicApi.RestoreFileResponse> {
    const caller = await this.authenticator.fromGrpc(request.authToken, metadata);
    const file = await this.files.restore(caller, request.fileId, this.origins.grpc(call, metadata));
    return { success: true, file: fileInfo(file) };
  }

  @GrpcMethod(SERVICE, 'PurgeFile')
  async purgeFile(
    request: publicApi.PurgeFileRequest,
    metadata: Metadata,
    call: ServerUnaryCall<unknown, unknown>,
  ): Promise<publicApi.PurgeFileResponse> {
    const caller = await this.authenticator.fromGrpc(request.authToken, metadata);
    const purged = await this.files.purge(caller, request.fileId, this.origins.grpc(call, metadata));
    return { success: true, purgedBytes: purged };
  }

  @GrpcMethod(SERVICE, 'GetQuotaStatus')
  async getQuotaStatus(request: publicApi.GetQuotaStatusRequest, metadata: Metadata): Promise<publicApi.GetQuotaStatusResponse> {
    const caller = await this.authenticator.fromGrpc(request.authToken, metadata);
    const status = await this.files.quota(caller);
    return {
      success: true,
      totalQuotaBytes: status.totalQuotaBytes,
      usedBytes: status.usedBytes,
      availableBytes: status.availableBytes,
      usagePercentage: status.usagePercentage,
    };
  }
}
