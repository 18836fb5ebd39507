import type { Request } from 'express';
import { ClientGoneError } from '../files/upload.service';

/** The request body as it arrives; a client that goes away mid-body ends it with ClientGoneError. */
export async function* requestBody(req: Request): AsyncGenerator<Uint8Array> {
  try {
    for await (const piece of req) yield piece as Buffer;
  } catch {
    throw new ClientGoneError();
  }
  if (!req.complete) throw new ClientGoneError();
}

/** The scheme, host and port the client reached (X-Forwarded-* believed from TRUSTED_PROXIES only), for URLs handed out. */
export function requestBaseUrl(req: Request): string {
  return `${req.protocol}://${req.host || 'localhost'}`;
}
