import { Controller, Inject } from '@nestjs/common';
import type { sendUnaryData, ServerReadableStream, ServerWritableStream } from '@grpc/grpc-js';
import { InvalidArgumentError, storageNodeApi } from '@cloudstore/contracts';
import { AllowedCallers, answerStreamCall, ClientStreamCall, writeAll } from '@cloudstore/grpc';
import { LOGGER, type Logger, Metrics } from '@cloudstore/observability';
import { from, ignoreElements, type Observable } from 'rxjs';
import { ChunkStore } from './chunk-store';

type PutChunkCall = ServerReadableStream<storageNodeApi.PutChunkRequest, storageNodeApi.PutChunkResponse>;

const SERVICE = storageNodeApi.STORAGE_NODE_SERVICE_NAME;
const LIST_PAGE_SIZE = 1000;

/**
 * The node's gRPC API: put, get, stat, delete and list chunks. The gateway writes and reads
 * chunks (uploads, downloads); only metadata (with its repair, scrub, drain and GC workers, all
 * in its process) may also stat, list and delete them.
 */
@Controller()
// PutChunk keeps grpc-js's own call for backpressure and cancellation: see ClientStreamCall.
@ClientStreamCall<storageNodeApi.StorageNodeServiceController>(SERVICE, 'putChunk')
@storageNodeApi.StorageNodeServiceControllerMethods()
export class ChunkStoreController implements Omit<storageNodeApi.StorageNodeServiceController, 'putChunk'> {
  constructor(
    private readonly store: ChunkStore,
    private readonly metrics: Metrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @AllowedCallers('gateway', 'metadata')
  putChunk(call: PutChunkCall, callback: sendUnaryData<storageNodeApi.PutChunkResponse>): Promise<void> {
    const observation = { metrics: this.metrics, logger: this.logger, grpcService: SERVICE, grpcMethod: 'PutChunk', call };
    return answerStreamCall(callback, observation, async () => {
      const messages = call[Symbol.asyncIterator]() as AsyncIterator<storageNodeApi.PutChunkRequest>;
      const first = await messages.next();
      if (first.done) throw new InvalidArgumentError('PutChunk needs a first message with chunk_id, sha256 and size');
      const header = first.value;
      async function* data(): AsyncGenerator<Uint8Array> {
        if (header.data.length > 0) yield header.data;
        for (let next = await messages.next(); !next.done; next = await messages.next()) yield next.value.data;
      }
      const stored = await this.store.write(header.chunkId, { sha256: header.sha256, size: header.size }, data());
      return { chunkId: stored.chunkId, size: stored.size, sha256: header.sha256 };
    });
  }

  @AllowedCallers('gateway', 'metadata')
  getChunk(
    request: storageNodeApi.GetChunkRequest,
    _metadata: unknown,
    call: ServerWritableStream<storageNodeApi.GetChunkRequest, storageNodeApi.GetChunkResponse>,
  ): Observable<never> {
    const send = async () => {
      const { stream } = await this.store.read(request.chunkId);
      await writeAll(call, stream, (data: Buffer) => ({ data }));
    };
    return from(send()).pipe(ignoreElements());
  }

  @AllowedCallers('metadata')
  async statChunk(request: storageNodeApi.StatChunkRequest): Promise<storageNodeApi.StatChunkResponse> {
    const { size, sha256 } = await this.store.stat(request.chunkId, request.computeSha256);
    return { chunkId: request.chunkId, size, sha256: sha256 ?? '' };
  }

  @AllowedCallers('metadata')
  async deleteChunk(request: storageNodeApi.DeleteChunkRequest): Promise<storageNodeApi.DeleteChunkResponse> {
    return { deleted: await this.store.delete(request.chunkId) };
  }

  @AllowedCallers('metadata')
  listChunks(
    _request: storageNodeApi.ListChunksRequest,
    _metadata: unknown,
    call: ServerWritableStream<storageNodeApi.ListChunksRequest, storageNodeApi.ListChunksResponse>,
  ): Observable<never> {
    const store = this.store;
    async function* pages(): AsyncGenerator<storageNodeApi.ChunkEntry[]> {
      let page: storageNodeApi.ChunkEntry[] = [];
      for await (const chunk of store.walk()) {
        page.push(chunk);
        if (page.length === LIST_PAGE_SIZE) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
    }
    return from(writeAll(call, pages(), (chunks) => ({ chunks }))).pipe(ignoreElements());
  }
}
