import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What follows a request across async calls and gRPC hops. */
export interface RequestContext {
  readonly requestId: string;
  /**
   * The user's access token once the gateway verified it: internal calls made for the request
   * carry it (`authorization: Bearer`), so auth and metadata verify the user themselves.
   */
  accessToken?: string;
}

/** HTTP header and gRPC metadata key that carry the correlation id between services. */
export const REQUEST_ID_HEADER = 'x-request-id';

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` with `requestId` (or a fresh one when absent or malformed) as the current request. */
export function runWithRequestId<T>(requestId: string | undefined, fn: () => T): T {
  return storage.run({ requestId: sanitizeRequestId(requestId) ?? randomUUID() }, fn);
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** Records the verified access token of the current request; outside a request it goes nowhere. */
export function setRequestAccessToken(token: string): void {
  const context = storage.getStore();
  if (context) context.accessToken = token;
}

export function currentAccessToken(): string | undefined {
  return storage.getStore()?.accessToken;
}

/** Ids come from clients: accept only short printable tokens so that logs stay clean. */
function sanitizeRequestId(value: string | undefined): string | undefined {
  return value && /^[A-Za-z0-9._:-]{1,128}$/.test(value) ? value : undefined;
}
