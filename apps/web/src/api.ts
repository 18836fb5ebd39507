/** The REST API of the gateway that serves this page, with the signed-in session's tokens. */

export interface Tokens {
  readonly auth_token: string;
  readonly expires_at: number;
  readonly refresh_token: string;
  readonly refresh_expires_at: number;
}

export interface Me {
  readonly user_id: string;
  readonly username: string;
  readonly role: string;
}

export interface FileView {
  readonly file_id: string;
  readonly filename: string;
  readonly file_size: number;
  readonly uploaded_at: number;
  readonly checksum: string;
  readonly content_type: string;
  readonly version: number;
  readonly shared_by?: string;
  readonly deleted_at?: number;
  readonly purge_at?: number;
}

export interface Quota {
  readonly total_quota_bytes: number;
  readonly used_bytes: number;
  readonly available_bytes: number;
  readonly usage_percentage: number;
  readonly unlimited: boolean;
}

/** A refusal of the API: its `code` (CONTRACT.md) and message. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const TOKENS_KEY = 'cloudstore.tokens';
/** Refreshed this long before the access token expires. */
const REFRESH_MARGIN_SECONDS = 60;

let refreshing: Promise<Tokens | null> | undefined;
const listeners = new Set<(tokens: Tokens | null) => void>();

export function storedTokens(): Tokens | null {
  const text = localStorage.getItem(TOKENS_KEY);
  return text ? (JSON.parse(text) as Tokens) : null;
}

export function keepTokens(tokens: Tokens | null): void {
  if (tokens) localStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
  else localStorage.removeItem(TOKENS_KEY);
  for (const listener of listeners) listener(tokens);
}

/** Told when the session starts, is refreshed, or ends. */
export function onTokens(listener: (tokens: Tokens | null) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * New tokens for the session. One tab at a time (a Web Lock): the refresh token is single use, and
 * a second tab spending it again would end the session; a tab that finds it already refreshed by
 * another takes the stored pair. Only a refusal (401) signs out; a busy server does not.
 */
async function refresh(tokens: Tokens): Promise<Tokens | null> {
  const once = async (): Promise<Tokens | null> => {
    const current = storedTokens();
    if (!current) return null;
    if (current.refresh_token !== tokens.refresh_token) return current;
    const response = await fetch('/v1/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: current.refresh_token }),
    });
    if (response.status === 401) keepTokens(null);
    if (!response.ok) return null;
    const body = (await response.json()) as { auth_token?: string; new_token?: string } & Tokens;
    const next = { ...body, auth_token: body.auth_token ?? body.new_token ?? '' };
    keepTokens(next);
    return next;
  };
  if (!refreshing) {
    const locked: Promise<Tokens | null> = navigator.locks
      ? navigator.locks.request('cloudstore-refresh', once).then((tokens) => tokens)
      : once();
    refreshing = locked.finally(() => (refreshing = undefined));
  }
  return refreshing;
}

/** The access token, refreshed first when it is about to expire; null when signed out. */
export async function accessToken(): Promise<string | null> {
  let tokens = storedTokens();
  if (tokens && tokens.expires_at - Date.now() / 1000 < REFRESH_MARGIN_SECONDS) tokens = await refresh(tokens);
  return tokens?.auth_token ?? null;
}

/** A call of the API: JSON in and out; a refusal throws ApiError with its code. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const send = async () => {
    const token = await accessToken();
    return fetch(path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  };
  let response = await send();
  const tokens = storedTokens();
  if (response.status === 401 && tokens && (await refresh(tokens))) response = await send();
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as { code?: string; detail?: string };
    throw new ApiError(problem.code ?? 'INTERNAL_ERROR', problem.detail ?? `HTTP ${response.status}`, response.status);
  }
  return (response.status === 204 ? undefined : await response.json()) as T;
}

/** A failure as one line for people, naming its code. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function humanBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

export function humanTime(unixSeconds: number | undefined): string {
  return unixSeconds ? new Date(unixSeconds * 1000).toLocaleString() : '–';
}

/** A text field of a submitted form ('' when missing). */
export function field(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value : '';
}
