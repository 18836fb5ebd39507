import { Metadata, type ClientWritableStream, type ServiceError } from '@grpc/grpc-js';
import type { storageNodeApi } from '@cloudstore/contracts';
import type { GrpcServiceClient } from '@cloudstore/grpc';

/** A PutChunk the test holds open: its header went at once, its data goes when the test sends it. */
export interface OpenPutChunk {
  send(data: Uint8Array): void;
  end(): void;
  /** The node's answer; rejects with grpc-js's ServiceError (its `code`) when the call fails. */
  readonly result: Promise<storageNodeApi.PutChunkResponse>;
}

/** Opens a PutChunk of `chunk` on a node and sends its header, for tests of a write in flight. */
export function openPutChunk(
  client: GrpcServiceClient<storageNodeApi.StorageNodeServiceClient>,
  chunk: { id: string; sha256: string; sizeBytes: number },
  timeoutMs = 30_000,
): OpenPutChunk {
  type PutChunk = (
    metadata: Metadata,
    options: object,
    callback: (error: ServiceError | null, response?: storageNodeApi.PutChunkResponse) => void,
  ) => ClientWritableStream<storageNodeApi.PutChunkRequest>;
  let call!: ClientWritableStream<storageNodeApi.PutChunkRequest>;
  const result = new Promise<storageNodeApi.PutChunkResponse>((resolve, reject) => {
    call = (client.raw['putChunk'] as PutChunk).call(
      client.raw,
      new Metadata(),
      client.callOptions(timeoutMs),
      (error, response) => (error || !response ? reject(error ?? new Error('no answer')) : resolve(response)),
    );
  });
  // The outcome is `result`'s; a failed call also emits 'error', which must not throw.
  call.on('error', () => undefined);
  call.write({ chunkId: chunk.id, sha256: chunk.sha256, size: chunk.sizeBytes, data: Buffer.alloc(0) });
  return {
    send: (data) => void call.write({ chunkId: '', sha256: '', size: 0, data: Buffer.from(data) }),
    end: () => call.end(),
    result,
  };
}
