import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * The error codes of the public contract (CONTRACT.md §3). A failed call carries one of them:
 * gRPC in the trailing metadata `error-code`, REST in the problem+json `code`.
 */
export const ERROR_STATUS = {
  INVALID_USERNAME: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 },
  INVALID_EMAIL: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 },
  WEAK_PASSWORD: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 },
  INVALID_FILENAME: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 },
  INVALID_ARGUMENT: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 },
  USERNAME_TAKEN: { grpc: GrpcStatus.ALREADY_EXISTS, http: 409 },
  EMAIL_TAKEN: { grpc: GrpcStatus.ALREADY_EXISTS, http: 409 },
  INVALID_CREDENTIALS: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  INVALID_OTP: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  OTP_EXPIRED: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  SESSION_NOT_FOUND: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  TOKEN_INVALID: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  TOKEN_EXPIRED: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  TOKEN_REVOKED: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  PERMISSION_DENIED: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
  FILE_NOT_FOUND: { grpc: GrpcStatus.NOT_FOUND, http: 404 },
  NOT_FOUND: { grpc: GrpcStatus.NOT_FOUND, http: 404 },
  RATE_LIMITED: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 429 },
  ACCOUNT_LOCKED: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 429 },
  QUOTA_EXCEEDED: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 413 },
  FILE_TOO_LARGE: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 413 },
  CHECKSUM_MISMATCH: { grpc: GrpcStatus.DATA_LOSS, http: 500 },
  STORAGE_UNAVAILABLE: { grpc: GrpcStatus.UNAVAILABLE, http: 503 },
  /** An internal service (auth, metadata) did not answer in time. */
  SERVICE_UNAVAILABLE: { grpc: GrpcStatus.UNAVAILABLE, http: 503 },
  INTERNAL_ERROR: { grpc: GrpcStatus.INTERNAL, http: 500 },
} as const satisfies Record<string, { grpc: GrpcStatus; http: number }>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * Codes that only travel between services, and the contract code a client is given for each at
 * the public edge (the gateway): an internal service that does not answer leaves the file
 * service unavailable.
 */
const PUBLIC_CODE_OF: Partial<Record<ErrorCode, ErrorCode>> = { SERVICE_UNAVAILABLE: 'STORAGE_UNAVAILABLE' };

/** The gRPC trailing-metadata key that carries an {@link ErrorCode}. */
export const ERROR_CODE_METADATA_KEY = 'error-code';
/** Trailing metadata that tells a client when to try again (seconds), for RESOURCE_EXHAUSTED. */
export const RETRY_AFTER_METADATA_KEY = 'retry-after';

/**
 * Longest error message (UTF-8 bytes) that crosses a process boundary. Messages travel in the
 * gRPC `grpc-message` trailer, and a header field near 64 KiB is a connection error in HTTP/2:
 * the peer drops the whole shared channel, failing every other caller's call on it.
 */
export const MAX_ERROR_MESSAGE_BYTES = 1024;

/**
 * `text` cut to at most `maxBytes` of UTF-8 (ending in "…" when cut), never inside a character,
 * so that an error that quotes input stays small whatever it quotes.
 */
export function boundErrorText(text: string, maxBytes = MAX_ERROR_MESSAGE_BYTES): string {
  if (text.length <= maxBytes / 3 || Buffer.byteLength(text) <= maxBytes) return text;
  const ellipsis = '…';
  const budget = maxBytes - Buffer.byteLength(ellipsis);
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > budget) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end) + ellipsis;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}

/**
 * An expected failure with a contract code. Its message is safe to show to the caller (and cut
 * to {@link MAX_ERROR_MESSAGE_BYTES}); anything else thrown is an internal error whose detail
 * stays in the log.
 */
export class DomainError extends Error {
  override name = 'DomainError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Seconds after which a retry may succeed (rate limits, lockouts). */
    readonly retryAfterSeconds?: number,
  ) {
    super(boundErrorText(message));
  }
}

/** The error as a client of the public API may see it: with a contract code only. */
export function publicError(error: DomainError): DomainError {
  const code = PUBLIC_CODE_OF[error.code];
  return code ? new DomainError(code, error.message, error.retryAfterSeconds) : error;
}

export class InvalidArgumentError extends DomainError {
  override name = 'InvalidArgumentError';
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

export class InvalidFilenameError extends DomainError {
  override name = 'InvalidFilenameError';
  constructor(message: string) {
    super('INVALID_FILENAME', message);
  }
}

export class PermissionDeniedError extends DomainError {
  override name = 'PermissionDeniedError';
  constructor(message = 'You do not have permission to do this') {
    super('PERMISSION_DENIED', message);
  }
}

export class FileNotFoundError extends DomainError {
  override name = 'FileNotFoundError';
  constructor(message = 'File not found') {
    super('FILE_NOT_FOUND', message);
  }
}

export class NotFoundError extends DomainError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

export class QuotaExceededError extends DomainError {
  override name = 'QuotaExceededError';
  constructor(message = 'Storage quota exceeded') {
    super('QUOTA_EXCEEDED', message);
  }
}

export class ChecksumMismatchError extends DomainError {
  override name = 'ChecksumMismatchError';
  constructor(message: string) {
    super('CHECKSUM_MISMATCH', message);
  }
}

export class StorageUnavailableError extends DomainError {
  override name = 'StorageUnavailableError';
  constructor(message: string) {
    super('STORAGE_UNAVAILABLE', message);
  }
}

export class ServiceUnavailableError extends DomainError {
  override name = 'ServiceUnavailableError';
  constructor(message: string) {
    super('SERVICE_UNAVAILABLE', message);
  }
}

export class RateLimitedError extends DomainError {
  override name = 'RateLimitedError';
  constructor(retryAfterSeconds: number, message = 'Too many requests, try again later') {
    super('RATE_LIMITED', message, retryAfterSeconds);
  }
}
