import { once } from 'node:events';
import type { ServerWritableStream } from '@grpc/grpc-js';

/**
 * Writes every item of `source` to a server stream as a message, waiting for 'drain' whenever
 * the call's buffer is full, so a slow reader slows the disk read instead of filling memory.
 * Stops early, without error, when the client cancels.
 */
export async function writeAll<TItem, TMessage>(
  call: ServerWritableStream<unknown, TMessage>,
  source: AsyncIterable<TItem>,
  toMessage: (item: TItem) => TMessage,
): Promise<void> {
  for await (const item of source) {
    if (call.cancelled) return;
    if (!call.write(toMessage(item))) {
      await Promise.race([once(call, 'drain'), once(call, 'cancelled')]);
    }
  }
}
