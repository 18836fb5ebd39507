import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ClientReadableStream, Metadata, ServiceError } from '@grpc/grpc-js';
import { CloudStorageError, fromGrpcError } from './errors';
import {
  type CloudStorageServiceClient,
  type DownloadFileResponse,
  UploadFileRequest,
  type UploadFileResponse,
} from './generated/cloudstorage/v1/cloud_storage';

/** Bytes per upload message: well under the gateway's message limit, large enough to cost little per byte. */
export const UPLOAD_MESSAGE_BYTES = 1024 * 1024;

/** Where an upload's bytes come from: a file by its path, bytes in memory, or a stream read once. */
export type UploadSource = string | Uint8Array | Readable;

/** `sent` bytes of `total` (undefined when not known) have left for the server. */
export type ProgressCallback = (sent: number, total: number | undefined) => void;

/** The source's bytes from `offset` on, in messages' worth. */
export function readSource(source: string | Uint8Array, offset: number): AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  if (typeof source === 'string') return createReadStream(source, { start: offset, highWaterMark: UPLOAD_MESSAGE_BYTES });
  return [source.subarray(offset)];
}

/** The pieces of `source`, none longer than UPLOAD_MESSAGE_BYTES. */
async function* bounded(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const piece of source) {
    for (let at = 0; at < piece.length; at += UPLOAD_MESSAGE_BYTES) yield piece.subarray(at, at + UPLOAD_MESSAGE_BYTES);
  }
}

/**
 * One UploadFile stream: the first message, then the bytes, with back-pressure (the source is read
 * no faster than the connection takes it). Aborting `signal` cancels the call.
 */
export function sendUpload(
  service: CloudStorageServiceClient,
  metadata: Metadata,
  first: Partial<UploadFileRequest>,
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  onSent: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<UploadFileResponse> {
  return new Promise<UploadFileResponse>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    let settled = false;
    const call = service.uploadFile(metadata, (error: ServiceError | null, response?: UploadFileResponse) => {
      settled = true;
      signal?.removeEventListener('abort', cancel);
      if (error) reject(signal?.aborted ? abortError(signal) : fromGrpcError(error));
      else resolve(response as UploadFileResponse);
    });
    const cancel = () => call.cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    const answered = new Promise<void>((done) => call.once('status', () => done()));
    void (async () => {
      call.write(UploadFileRequest.fromPartial(first));
      for await (const chunk of bounded(body)) {
        if (settled || signal?.aborted) {
          call.cancel();
          return;
        }
        const message = UploadFileRequest.fromPartial({ chunk: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length) });
        // Counted once grpc-js has handed it to the connection, not when it is queued.
        if (!call.write(message, () => onSent(chunk.length))) await Promise.race([once(call, 'drain'), answered]);
      }
      call.end();
    })().catch((error: unknown) => {
      // The source failed (a file that vanished, a stream that errored): the upload is cancelled.
      call.cancel();
      if (!settled) reject(error instanceof Error ? error : new Error(String(error)));
      settled = true;
    });
  });
}

/** What a download's first answer says of the file, and its bytes. */
export interface DownloadStream {
  readonly fileId: string;
  /** The file's name (of the version asked for). */
  readonly filename: string;
  readonly size: number;
  /** Lowercase hex SHA-256 of the whole file: the stream fails with CHECKSUM_MISMATCH at its end if its bytes differ. */
  readonly sha256: string;
  readonly stream: Readable;
}

/** Opens a DownloadFile call: resolves with the file's size, name and SHA-256 once the server answers, or rejects with its error. */
export async function openDownloadStream(
  fileId: string,
  call: ClientReadableStream<DownloadFileResponse>,
  signal?: AbortSignal,
): Promise<DownloadStream> {
  const cancel = () => call.cancel();
  signal?.addEventListener('abort', cancel, { once: true });
  // A failure is read from the stream as it is consumed; before, it rejects the opening.
  let failure: ServiceError | undefined;
  call.on('error', (error: ServiceError) => (failure ??= error));
  const headers = await new Promise<Metadata>((resolve, reject) => {
    const failed = (error: ServiceError) => reject(signal?.aborted ? abortError(signal) : fromGrpcError(error));
    if (failure) return failed(failure);
    call.once('error', failed);
    call.on('metadata', (metadata: Metadata) => {
      // A refusal comes as empty headers, then its status: the file's headers come only with its bytes.
      if (metadata.get('x-file-sha256').length === 0) return;
      call.removeListener('error', failed);
      resolve(metadata);
    });
  });
  const size = Number(headers.get('x-file-size')[0] ?? Number.NaN);
  const sha256 = String(headers.get('x-file-sha256')[0] ?? '');
  const name = headers.get('x-file-name-bin')[0];
  async function* verified(): AsyncGenerator<Buffer> {
    const hash = createHash('sha256');
    try {
      for await (const message of call as AsyncIterable<DownloadFileResponse>) {
        const chunk = Buffer.from(message.chunk);
        hash.update(chunk);
        yield chunk;
      }
    } catch (error) {
      throw signal?.aborted ? abortError(signal) : fromGrpcError(error as ServiceError);
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
    if (sha256 && hash.digest('hex') !== sha256)
      throw new CloudStorageError('CHECKSUM_MISMATCH', `The bytes of file ${fileId} do not match its SHA-256`);
  }
  const stream = Readable.from(verified(), { objectMode: false });
  // A stream destroyed before its end (a failed write, a reader that stopped) ends the call too.
  stream.once('close', () => call.cancel());
  return {
    fileId,
    filename: Buffer.isBuffer(name) ? name.toString('utf8') : '',
    size: Number.isFinite(size) ? size : -1,
    sha256,
    stream,
  };
}

/** The error a call aborted by its signal rejects with. */
export function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted', 'AbortError');
}
