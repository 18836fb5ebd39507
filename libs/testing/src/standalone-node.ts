import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Metadata, type ClientWritableStream, type ServiceError } from '@grpc/grpc-js';
import type { storageNodeApi } from '@cloudstore/contracts';
import type { GrpcServiceClient } from '@cloudstore/grpc';
import { newChunk } from './factories';
import type { TestPki } from './test-pki';
import { waitFor } from './wait-for';

/**
 * The environment of a storage node that serves alone, with `pki`'s certificate of `nodeId`: gRPC
 * on `port`, /metrics and the probes on `port + 1`. There is no metadata service: the node retries
 * its registration in the background and serves meanwhile.
 */
export function standaloneNodeEnv(pki: TestPki, nodeId: string, dataDir: string, port: number): Record<string, string> {
  return {
    ...pki.env(nodeId),
    DATA_DIR: dataDir,
    STORAGE_NODE_ID: nodeId,
    STORAGE_NODE_PORT: String(port),
    METRICS_PORT: String(port + 1),
    METADATA_ADDRESS: '127.0.0.1:1',
  };
}

/** A PutChunk the test holds open, its first bytes already on the node's disk. */
export interface PutChunkInFlight {
  readonly chunk: ReturnType<typeof newChunk>;
  /** Sends the rest of the chunk and ends the call. */
  finish(): void;
  /** The node's answer; rejects with grpc-js's ServiceError (its `code`) when the call fails. */
  readonly result: Promise<storageNodeApi.PutChunkResponse>;
}

/**
 * Starts storing a new chunk of `size` bytes on a node whose data folder is `nodeDir`: resolves
 * once the node writes it (its temp file is there), for tests of what a node does with a write
 * in flight.
 */
export async function putChunkInFlight(
  client: GrpcServiceClient<storageNodeApi.StorageNodeServiceClient>,
  nodeDir: string,
  size = 1024 * 1024,
): Promise<PutChunkInFlight> {
  type PutChunk = (
    metadata: Metadata,
    options: object,
    callback: (error: ServiceError | null, response?: storageNodeApi.PutChunkResponse) => void,
  ) => ClientWritableStream<storageNodeApi.PutChunkRequest>;
  const chunk = newChunk(size);
  const first = Math.min(size, 64 * 1024);
  let call!: ClientWritableStream<storageNodeApi.PutChunkRequest>;
  const result = new Promise<storageNodeApi.PutChunkResponse>((resolve, reject) => {
    call = (client.raw['putChunk'] as PutChunk).call(client.raw, new Metadata(), client.callOptions(30_000), (error, response) =>
      error || !response ? reject(error ?? new Error('no answer')) : resolve(response),
    );
  });
  // The outcome is `result`'s; a failed call also emits 'error', which must not throw.
  call.on('error', () => undefined);
  result.catch(() => undefined);
  call.write({ chunkId: chunk.id, sha256: chunk.sha256, size, data: chunk.data.subarray(0, first) });
  await waitFor(
    'the node writing the chunk',
    async () => (await readdir(join(nodeDir, 'tmp'))).some((name) => name.startsWith(chunk.id)),
    10_000,
    10,
  );
  return {
    chunk,
    finish: () => {
      call.write({ chunkId: '', sha256: '', size: 0, data: chunk.data.subarray(first) });
      call.end();
    },
    result,
  };
}
