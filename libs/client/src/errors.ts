import { Metadata, type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';

/** The error codes of the API (CONTRACT.md §3): every failed call carries one. */
export const ERROR_CODES = [
  'INVALID_USERNAME',
  'INVALID_EMAIL',
  'WEAK_PASSWORD',
  'INVALID_FILENAME',
  'INVALID_ARGUMENT',
  'USERNAME_TAKEN',
  'EMAIL_TAKEN',
  'INVALID_CREDENTIALS',
  'INVALID_OTP',
  'OTP_EXPIRED',
  'SESSION_NOT_FOUND',
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'TOKEN_REVOKED',
  'PERMISSION_DENIED',
  'FILE_NOT_FOUND',
  'NOT_FOUND',
  'RATE_LIMITED',
  'ACCOUNT_LOCKED',
  'QUOTA_EXCEEDED',
  'FILE_TOO_LARGE',
  'CHECKSUM_MISMATCH',
  'STORAGE_UNAVAILABLE',
  'INTERNAL_ERROR',
] as const;

/**
 * A code of the API, or `NETWORK_ERROR`: the server could not be reached, or the connection broke
 * before it answered (the call may be retried; an upload goes on where it stood).
 */
export type ErrorCode = (typeof ERROR_CODES)[number] | 'NETWORK_ERROR';

/** A failed call: `code` says what failed, `message` says it for people. */
export class CloudStorageError extends Error {
  override readonly name = 'CloudStorageError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Seconds after which a retry may succeed (RATE_LIMITED, ACCOUNT_LOCKED). */
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Whether trying again later may succeed: the connection, a busy or unavailable cluster. */
  get retriable(): boolean {
    return this.code === 'NETWORK_ERROR' || this.code === 'STORAGE_UNAVAILABLE' || this.code === 'RATE_LIMITED';
  }
}

function isErrorCode(value: string): value is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(value);
}

/** The CloudStorageError of a failed gRPC call: its `error-code`, else the transport's failure. */
export function fromGrpcError(error: ServiceError): CloudStorageError {
  const metadata = error.metadata instanceof Metadata ? error.metadata : new Metadata();
  const code = String(metadata.get('error-code')[0] ?? '');
  const retryAfter = Number(metadata.get('retry-after')[0] ?? Number.NaN);
  const message = error.details || error.message;
  if (isErrorCode(code))
    return new CloudStorageError(code, message, Number.isFinite(retryAfter) ? retryAfter : undefined, { cause: error });
  const transport =
    error.code === GrpcStatus.UNAVAILABLE || error.code === GrpcStatus.CANCELLED || error.code === GrpcStatus.DEADLINE_EXCEEDED;
  return new CloudStorageError(transport ? 'NETWORK_ERROR' : 'INTERNAL_ERROR', message, undefined, { cause: error });
}

/** The CloudStorageError of a failed REST call (application/problem+json with `code`). */
export async function fromProblem(response: Response): Promise<CloudStorageError> {
  const problem = (await response.json().catch(() => ({}))) as { code?: string; detail?: string };
  const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
  return new CloudStorageError(
    problem.code && isErrorCode(problem.code) ? problem.code : 'INTERNAL_ERROR',
    problem.detail ?? `HTTP ${response.status}`,
    Number.isFinite(retryAfter) ? retryAfter : undefined,
  );
}
