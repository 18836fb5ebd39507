import type { Metadata, ServerReadableStream } from '@grpc/grpc-js';
import { InvalidArgumentError, type publicApi } from '@cloudstore/contracts';
import { ClientGoneError } from './upload.service';

/** Bytes per DownloadFileResponse message. */
const MESSAGE_BYTES = 1024 * 1024;

export type UploadCall = ServerReadableStream<publicApi.UploadFileRequest, publicApi.UploadFileResponse>;

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

/** An UploadFile stream read: its first message, the size it declared, and all its bytes in order. */
export interface UploadStream {
  readonly first: publicApi.UploadFileRequest;
  readonly declaredSize: number;
  readonly bytes: AsyncGenerator<Uint8Array>;
}

/**
 * Reads the first message of an UploadFile call (auth_token, filename, optionally file_id and
 * file_size; any message may carry bytes) and gives the bytes of it and of every later message,
 * with backpressure. No byte for `idleMs` drops the upload (INVALID_ARGUMENT); a client that
 * cancels or goes away ends it with ClientGoneError.
 */
export async function readUploadStream(call: UploadCall, idleMs: number): Promise<UploadStream> {
  const messages = call[Symbol.asyncIterator]() as AsyncIterator<publicApi.UploadFileRequest>;
  const head = await messages.next();
  if (head.done) throw new InvalidArgumentError('UploadFile needs a first message with auth_token and filename');
  const first = head.value;
  const size = declaredSize(first, call.metadata);
  async function* bytes(): AsyncGenerator<Uint8Array> {
    if (first.chunk.length > 0) yield first.chunk;
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
  return { first, declaredSize: size, bytes: bytes() };
}

/**
 * Gathers the verified pieces of a download (a cipher's output, 64 KiB each) into DownloadFile
 * messages of MESSAGE_BYTES (the last one shorter, and marked is_final): a message per piece would
 * cost the client sixteen times the per-message work.
 */
export async function* downloadMessages(body: AsyncIterable<Buffer>): AsyncGenerator<publicApi.DownloadFileResponse> {
  let gathered: Buffer[] = [];
  let length = 0;
  let pending: Buffer | undefined;
  for await (const data of body) {
    for (let offset = 0; offset < data.length;) {
      const take = Math.min(MESSAGE_BYTES - length, data.length - offset);
      gathered.push(data.subarray(offset, offset + take));
      length += take;
      offset += take;
      if (length < MESSAGE_BYTES) continue;
      // Held back one message: only the end of the body tells which one is final.
      if (pending) yield { chunk: pending, isFinal: false };
      pending = gathered.length === 1 ? gathered[0] : Buffer.concat(gathered, length);
      gathered = [];
      length = 0;
    }
  }
  if (length > 0) {
    if (pending) yield { chunk: pending, isFinal: false };
    pending = Buffer.concat(gathered, length);
  }
  yield { chunk: pending ?? Buffer.alloc(0), isFinal: true };
}
