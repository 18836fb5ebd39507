import { type EventEmitter, once } from 'node:events';
import type { ServerWritableStream } from '@grpc/grpc-js';

/**
 * Waits until `stream` drains or emits `endEvent` (closed, cancelled), then removes both
 * listeners: a long transfer waits thousands of times, and listeners left behind would pile up.
 */
export async function waitForDrain(stream: EventEmitter, endEvent: string): Promise<void> {
  const settled = new AbortController();
  try {
    await Promise.race([once(stream, 'drain', { signal: settled.signal }), once(stream, endEvent, { signal: settled.signal })]);
  } finally {
    settled.abort();
  }
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
