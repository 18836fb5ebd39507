import { createHash } from 'node:crypto';
import {
  type sendUnaryData,
  Server,
  ServerCredentials,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { ChecksumMismatchError, NotFoundError, STORAGE_NODE_SERVICE, type storageNodeApi } from '@cloudstore/contracts';
import { domainErrorToStatus, loadServiceClientConstructor } from '@cloudstore/grpc';
import { HealthImplementation } from 'grpc-health-check';

/**
 * A storage node's gRPC API over a Map, on a real port: for tests of what talks to nodes
 * (repair, drain, garbage collection) without the storage-node process. It checks what it is
 * given like a node does (size and SHA-256) and counts the writes it took.
 */
export class InMemoryStorageNode {
  /** Chunk id → bytes; tests may corrupt or delete entries to stage a broken replica. */
  readonly chunks = new Map<string, Buffer>();
  /** Chunk ids of every completed write, in order. */
  readonly writes: string[] = [];

  private constructor(
    private readonly server: Server,
    readonly address: string,
  ) {}

  static async start(): Promise<InMemoryStorageNode> {
    const server = new Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const node = new InMemoryStorageNode(server, `127.0.0.1:${port}`);
    server.addService(loadServiceClientConstructor(STORAGE_NODE_SERVICE).service, node.handlers());
    new HealthImplementation({ '': 'SERVING' }).addToServer(server);
    return node;
  }

  async stop(): Promise<void> {
    this.server.forceShutdown();
    await Promise.resolve();
  }

  private handlers() {
    const notFound = (chunkId: string) => domainErrorToStatus(new NotFoundError(`no chunk ${chunkId}`));
    return {
      PutChunk: (
        call: ServerReadableStream<storageNodeApi.PutChunkRequest, storageNodeApi.PutChunkResponse>,
        callback: sendUnaryData<storageNodeApi.PutChunkResponse>,
      ) => {
        let header: storageNodeApi.PutChunkRequest | undefined;
        const parts: Buffer[] = [];
        call.on('data', (message: storageNodeApi.PutChunkRequest) => {
          header ??= message;
          parts.push(Buffer.from(message.data));
        });
        call.on('end', () => {
          const data = Buffer.concat(parts);
          if (!header || data.length !== header.size || createHash('sha256').update(data).digest('hex') !== header.sha256) {
            callback(domainErrorToStatus(new ChecksumMismatchError('the chunk does not match its SHA-256')));
            return;
          }
          this.chunks.set(header.chunkId, data);
          this.writes.push(header.chunkId);
          callback(null, { chunkId: header.chunkId, size: data.length, sha256: header.sha256 });
        });
      },
      GetChunk: (call: ServerWritableStream<storageNodeApi.GetChunkRequest, storageNodeApi.GetChunkResponse>) => {
        const data = this.chunks.get(call.request.chunkId);
        if (!data) {
          call.emit('error', notFound(call.request.chunkId));
          return;
        }
        call.write({ data });
        call.end();
      },
      StatChunk: (
        call: ServerUnaryCall<storageNodeApi.StatChunkRequest, storageNodeApi.StatChunkResponse>,
        callback: sendUnaryData<storageNodeApi.StatChunkResponse>,
      ) => {
        const data = this.chunks.get(call.request.chunkId);
        if (!data) return callback(notFound(call.request.chunkId));
        const sha256 = call.request.computeSha256 ? createHash('sha256').update(data).digest('hex') : '';
        return callback(null, { chunkId: call.request.chunkId, size: data.length, sha256 });
      },
      DeleteChunk: (
        call: ServerUnaryCall<storageNodeApi.DeleteChunkRequest, storageNodeApi.DeleteChunkResponse>,
        callback: sendUnaryData<storageNodeApi.DeleteChunkResponse>,
      ) => callback(null, { deleted: this.chunks.delete(call.request.chunkId) }),
      ListChunks: (call: ServerWritableStream<storageNodeApi.ListChunksRequest, storageNodeApi.ListChunksResponse>) => {
        call.write({ chunks: [...this.chunks].map(([chunkId, data]) => ({ chunkId, size: data.length })) });
        call.end();
      },
    };
  }
}
