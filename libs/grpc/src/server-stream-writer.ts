import type { EventEmitter } from 'node:events';
import type { ServerWritableStream } from '@grpc/grpc-js';

/**
 * Waits until `stream` drains or emits `endEvent` (closed, cancelled); rejects on 'error'. Every
 * listener is removed once one fires: a long transfer waits thousands of times, and listeners left
 * behind would pile up (an AbortSignal on events.once would do it too, at the price of an
 * AbortError, stack trace included, per wait).
 */
export function waitForDrain(stream: EventEmitter, endEvent: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      stream.off('drain', onEvent);
      stream.off(endEvent, onEvent);
      stream.off('error', settle);
      if (error) reject(error);
      else resolve();
    };
    const onEvent = () => settle();
    stream.on('drain', onEvent);
    stream.on(endEvent, onEvent);
    stream.on('error', settle);
  });
}

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
    if (!call.write(toMessage(item))) await waitForDrain(call, 'cancelled');
  }
}
