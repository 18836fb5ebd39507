import { waitForDrain } from '@cloudstore/grpc';
import type { Response } from 'express';

/**
 * Bytes of a streamed answer the response may hold unsent before the next piece waits: a few of
 * the cipher's pieces, so waits are rare, and little memory per download however many run.
 */
const RESPONSE_BUFFER_BYTES = 256 * 1024;

/**
 * Sends `first` and the rest of `body` (its headers set already), at the pace the client reads.
 * A client that goes away stops the body; a body that fails ends the response and throws, and
 * the error filter cuts the connection (the status was sent: the client sees a truncated answer).
 */
export async function sendBody(res: Response, first: IteratorResult<Buffer>, body: AsyncGenerator<Buffer>): Promise<void> {
  try {
    for (let piece = first; !piece.done; piece = await body.next()) {
      // The pieces are small (a cipher's output): waiting out a drain per piece would cost more than it saves.
      // A response already closed would wait for a 'close' that came before.
      if (!res.write(piece.value) && res.writableLength >= RESPONSE_BUFFER_BYTES && !res.destroyed)
        await waitForDrain(res, 'close');
      if (res.destroyed) {
        await body.return(undefined);
        return;
      }
    }
    res.end();
  } catch (error) {
    await body.return(undefined);
    throw error;
  }
}
