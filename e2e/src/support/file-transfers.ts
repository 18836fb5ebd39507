import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Metadata, type ClientReadableStream, type ClientWritableStream, type ServiceError } from '@grpc/grpc-js';
import type { publicApi } from '@cloudstore/contracts';
import type { GrpcServiceClient } from '@cloudstore/grpc';

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

type PublicClient = GrpcServiceClient<publicApi.CloudStorageServiceClient>;

/**
 * UploadFile over gRPC as a client would: auth_token and filename in the first message, then
 * the bytes in `pieceSize` messages. Resolves with the response or the ServiceError.
 */
export function grpcUpload(
  client: PublicClient,
  token: string,
  filename: string,
  data: Buffer,
  options: {
    pieceSize?: number;
    fileId?: string;
    stopAfter?: number;
    fileSize?: number;
    metadata?: Metadata;
    /** Pause between messages: a slow client. */
    gapMs?: number;
    /** Continues a resumable upload from `offset` (the bytes sent are `data` from there). */
    resume?: { uploadId: string; offset: number };
  } = {},
): { done: Promise<publicApi.UploadFileResponse>; call: ClientWritableStream<publicApi.UploadFileRequest> } {
  let call!: ClientWritableStream<publicApi.UploadFileRequest>;
  const done = new Promise<publicApi.UploadFileResponse>((resolve, reject) => {
    call = (
      client.raw['uploadFile'] as (
        md: Metadata,
        cb: (e: ServiceError | null, r?: publicApi.UploadFileResponse) => void,
      ) => ClientWritableStream<publicApi.UploadFileRequest>
    ).call(client.raw, options.metadata ?? new Metadata(), (error, response) =>
      error ? reject(error) : resolve(response as publicApi.UploadFileResponse),
    );
  });
  const pieceSize = options.pieceSize ?? 256 * 1024;
  void (async () => {
    call.write({
      authToken: token,
      filename,
      chunk: Buffer.alloc(0),
      fileId: options.fileId ?? '',
      fileSize: options.fileSize ?? 0,
      uploadId: options.resume?.uploadId ?? '',
      offset: options.resume?.offset ?? 0,
    });
    const limit = options.stopAfter ?? data.length;
    for (let offset = options.resume?.offset ?? 0; offset < limit; offset += pieceSize) {
      if (options.gapMs && offset > 0) await new Promise((resolve) => setTimeout(resolve, options.gapMs));
      if (
        !call.write({
          authToken: '',
          filename: '',
          chunk: data.subarray(offset, Math.min(offset + pieceSize, limit)),
          fileId: '',
          fileSize: 0,
          uploadId: '',
          offset: 0,
        })
      ) {
        await new Promise((resolve) => call.once('drain', resolve));
      }
    }
    if (options.stopAfter === undefined) call.end();
  })().catch(() => undefined);
  return { done, call };
}

/** DownloadFile over gRPC: every message's bytes, and whether the last one said is_final. */
export async function grpcDownload(
  client: PublicClient,
  token: string,
  fileId: string,
  metadata = new Metadata(),
  versionId = '',
): Promise<{ data: Buffer; finalFlags: boolean[] }> {
  const call = (
    client.raw['downloadFile'] as (
      req: publicApi.DownloadFileRequest,
      md: Metadata,
    ) => ClientReadableStream<publicApi.DownloadFileResponse>
  ).call(client.raw, { authToken: token, fileId, versionId }, metadata);
  const parts: Buffer[] = [];
  const finalFlags: boolean[] = [];
  for await (const message of call as AsyncIterable<publicApi.DownloadFileResponse>) {
    parts.push(Buffer.from(message.chunk));
    finalFlags.push(message.isFinal);
  }
  return { data: Buffer.concat(parts), finalFlags };
}

/** Every chunk file on every node of a cluster's data folder. */
export async function chunkFilesOnDisk(dataDir: string): Promise<string[]> {
  const files: string[] = [];
  const nodes = await readdir(join(dataDir, 'nodes')).catch(() => [] as string[]);
  for (const node of nodes) {
    const shards = await readdir(join(dataDir, 'nodes', node, 'chunks')).catch(() => [] as string[]);
    for (const shard of shards) {
      for (const chunk of await readdir(join(dataDir, 'nodes', node, 'chunks', shard)).catch(() => [] as string[])) {
        files.push(join(dataDir, 'nodes', node, 'chunks', shard, chunk));
      }
    }
  }
  return files;
}

/** PUT /v1/files with the whole body; the new file's id. */
export async function restUpload(baseUrl: string, token: string, filename: string, data: Buffer): Promise<string> {
  const res = await fetch(`${baseUrl}/v1/files?filename=${encodeURIComponent(filename)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}` },
    body: data,
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 201) throw new Error(`upload ${filename}: ${JSON.stringify(body)}`);
  return body['file_id'] as string;
}
