import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  Metadata,
  type ServiceError,
  status as GrpcStatus,
  type ClientReadableStream,
  type ClientWritableStream,
} from '@grpc/grpc-js';
import { DomainError, type storageNodeApi } from '@cloudstore/contracts';
import { fromGrpcError } from '@cloudstore/grpc';
import type { EncodedChunk } from './chunk-messages';
import type { StorageNodeClient } from './storage-node-clients';

/** PutChunk as grpc-js's generated client describes it: its path and its message (de)serialisers. */
interface PutChunkMethod {
  readonly path: string;
  readonly requestSerialize: (request: storageNodeApi.PutChunkRequest) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => storageNodeApi.PutChunkResponse;
}

/** Metadata of a call to a node: with `waitForReady`, the call waits for the channel to connect. */
function callMetadata(waitForReady: boolean): Metadata {
  const metadata = new Metadata();
  if (waitForReady) metadata.setOptions({ waitForReady: true });
  return metadata;
}

/**
 * Stores a chunk on a node: a header message (id, SHA-256, size), then the chunk's data messages
 * as they were encoded (`encodeChunk`, or a ChunkMessageWriter), waiting for the stream to drain
 * whenever the node is slower than us. Resolves once the node has fsynced and verified it, and
 * only then is grpc-js done with `chunk`'s buffers; `signal` cancels the write (the node then
 * keeps nothing of it); `waitForReady` waits for the node's channel to connect (within the
 * deadline) rather than fail at once while it is down.
 */
export async function putChunk(
  client: StorageNodeClient,
  chunkId: string,
  sha256: string,
  chunk: EncodedChunk,
  timeoutMs: number,
  signal?: AbortSignal,
  waitForReady = false,
): Promise<void> {
  const method = client.raw['putChunk'] as unknown as PutChunkMethod;
  let call!: ClientWritableStream<Buffer>;
  const done = new Promise<void>((resolve, reject) => {
    // The messages go as they are: the header serialised here, the data already encoded.
    call = client.raw.makeClientStreamRequest<Buffer, storageNodeApi.PutChunkResponse>(
      method.path,
      (message) => message,
      method.responseDeserialize,
      callMetadata(waitForReady),
      client.callOptions(timeoutMs),
      (error) => (error ? reject(fromGrpcError(error, `storage node ${client.address}`)) : resolve()),
    );
  });
  // The call's outcome decides; a write on a call that already failed must not throw on its own.
  call.on('error', () => undefined);
  const cancel = () => call.cancel();
  signal?.addEventListener('abort', cancel, { once: true });
  const failed = done.then(
    () => false,
    () => true,
  );
  const header = method.requestSerialize({ chunkId, sha256, size: chunk.size, data: Buffer.alloc(0) });
  for (const message of [header, ...chunk.messages]) {
    if (!call.write(message) && (await Promise.race([once(call, 'drain').then(() => false), failed]))) break;
  }
  call.end();
  try {
    await done;
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
}

/** Why a replica could not give a chunk: it is not there, its bytes are wrong, or the node did not answer. */
export type ReplicaProblem = 'missing' | 'corrupt' | 'unavailable';

export class ReplicaReadError extends Error {
  override name = 'ReplicaReadError';
  constructor(
    readonly problem: ReplicaProblem,
    message: string,
    /** Nothing answered at the node's address at all. */
    readonly refused = false,
  ) {
    super(message);
  }
}

export interface ReadChunkOptions {
  /** The read fails ('unavailable') when no bytes arrive for this long: a stalled node, not a slow transfer. */
  readonly idleTimeoutMs: number;
  /** Cancels the read (another replica answered first); it then rejects with ReadCancelledError. */
  readonly signal?: AbortSignal;
  /** Called at every piece that arrives (the first one is the node's first byte). */
  readonly onProgress?: () => void;
  /** Wait for the node's channel to connect rather than fail at once while it is down. */
  readonly waitForReady?: boolean;
  /** Where the bytes go (at least the chunk's size; a pooled buffer, say) instead of a new buffer. */
  readonly into?: Buffer;
}

/** The read was cancelled by its caller: says nothing about the replica. */
export class ReadCancelledError extends Error {
  override name = 'ReadCancelledError';
}

/** A status that means nothing answers at the address (rather than a slow or failing node). */
const REFUSED = new Set<number>([GrpcStatus.UNAVAILABLE]);

/**
 * Reads a whole chunk from one replica and checks it against its size and SHA-256 (unless the
 * caller authenticates the bytes itself: no `sha256`) before a byte of it is used. Throws
 * ReplicaReadError saying what was wrong with this replica. There is no deadline for the whole
 * chunk (a big chunk on a busy link may take long); a stall is.
 */
export async function readChunk(
  client: StorageNodeClient,
  chunkId: string,
  expected: { size: number; sha256?: string },
  options: ReadChunkOptions,
): Promise<Buffer> {
  // Checked before the call starts: nothing of it is left to clean up.
  if (options.into && options.into.length < expected.size)
    throw new RangeError(`a chunk of ${expected.size} bytes needs more room`);
  const call = (
    client.raw['getChunk'] as (
      req: storageNodeApi.GetChunkRequest,
      md: Metadata,
      options: object,
    ) => ClientReadableStream<storageNodeApi.GetChunkResponse>
  ).call(client.raw, { chunkId }, callMetadata(options.waitForReady === true), {});
  let stalled = false;
  const stall = () => {
    stalled = true;
    call.cancel();
  };
  let idle = setTimeout(stall, options.idleTimeoutMs);
  const cancel = () => call.cancel();
  options.signal?.addEventListener('abort', cancel, { once: true });
  const buffer = options.into ? options.into.subarray(0, expected.size) : Buffer.allocUnsafe(expected.size);
  const hash = expected.sha256 === undefined ? undefined : createHash('sha256');
  let received = 0;
  try {
    for await (const message of call as AsyncIterable<storageNodeApi.GetChunkResponse>) {
      clearTimeout(idle);
      idle = setTimeout(stall, options.idleTimeoutMs);
      options.onProgress?.();
      const data = message.data;
      if (received + data.length > expected.size) {
        call.cancel();
        throw new ReplicaReadError('corrupt', `chunk ${chunkId} on ${client.address} is larger than ${expected.size} bytes`);
      }
      buffer.set(data, received);
      hash?.update(data);
      received += data.length;
    }
  } catch (error) {
    if (error instanceof ReplicaReadError) throw error;
    if (options.signal?.aborted) throw new ReadCancelledError(`read of chunk ${chunkId} from ${client.address} cancelled`);
    if (stalled)
      throw new ReplicaReadError(
        'unavailable',
        `${client.address} sent nothing of chunk ${chunkId} for ${options.idleTimeoutMs} ms`,
      );
    const code = (error as Partial<ServiceError>).code;
    if (code === GrpcStatus.NOT_FOUND) throw new ReplicaReadError('missing', `chunk ${chunkId} is not on ${client.address}`);
    throw new ReplicaReadError(
      'unavailable',
      `${client.address} did not give chunk ${chunkId}: ${(error as Error).message}`,
      code !== undefined && REFUSED.has(code),
    );
  } finally {
    clearTimeout(idle);
    options.signal?.removeEventListener('abort', cancel);
  }
  if (received !== expected.size || (hash && hash.digest('hex') !== expected.sha256)) {
    throw new ReplicaReadError('corrupt', `chunk ${chunkId} on ${client.address} does not match its SHA-256`);
  }
  return buffer;
}

/** Removes a chunk from a node; true when it was there. Idempotent. */
export async function deleteChunk(client: StorageNodeClient, chunkId: string, timeoutMs = 5000): Promise<boolean> {
  return (await client.call('deleteChunk', { chunkId }, { timeoutMs })).deleted;
}

/** Whether a node holds the chunk (by its presence and size; hashing it is the scrubber's job). */
export async function chunkExists(client: StorageNodeClient, chunkId: string, timeoutMs = 10_000): Promise<boolean> {
  try {
    await client.call('statChunk', { chunkId, computeSha256: false }, { timeoutMs });
    return true;
  } catch (error) {
    if (error instanceof DomainError && error.code === 'NOT_FOUND') return false;
    throw error;
  }
}
