import { status as GrpcStatus } from '@grpc/grpc-js';

/** Where a code may be seen: by any client, only by admins, or only between our services. */
type Audience = 'public' | 'admin' | 'internal';

interface CatalogueEntry {
  readonly grpc: GrpcStatus;
  readonly http: number;
  /** The message when the thrower gives none. */
  readonly message: string;
  readonly audience: Audience;
  /** The code a framework error of this HTTP status (an unknown route, a malformed body) is given. */
  readonly forHttpStatus?: readonly number[];
}

/**
 * The error catalogue: every code, its gRPC status, its HTTP status and its default message,
 * defined here once. The public codes are CONTRACT.md §3. A failed call carries one of them:
 * gRPC in the trailing metadata `error-code`, REST in the problem+json `code`. Each code has
 * its typed class below (`USERNAME_TAKEN` → {@link UsernameTakenError}).
 */
export const ERROR_CATALOGUE = {
  INVALID_USERNAME: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, message: 'Username is not valid', audience: 'public' },
  INVALID_EMAIL: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, message: 'Email address is not valid', audience: 'public' },
  WEAK_PASSWORD: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, message: 'The password is too weak', audience: 'public' },
  INVALID_FILENAME: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, message: 'The filename is not valid', audience: 'public' },
  INVALID_ARGUMENT: {
    grpc: GrpcStatus.INVALID_ARGUMENT,
    http: 400,
    message: 'The request is not valid',
    audience: 'public',
    forHttpStatus: [400, 405, 411, 415, 422],
  },
  USERNAME_TAKEN: { grpc: GrpcStatus.ALREADY_EXISTS, http: 409, message: 'That username is taken', audience: 'public' },
  EMAIL_TAKEN: {
    grpc: GrpcStatus.ALREADY_EXISTS,
    http: 409,
    message: 'An account with that email address exists',
    audience: 'public',
  },
  INVALID_CREDENTIALS: {
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    message: 'Wrong username, email or password',
    audience: 'public',
  },
  INVALID_OTP: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401, message: 'The code is not valid', audience: 'public' },
  OTP_EXPIRED: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401, message: 'The code has expired', audience: 'public' },
  SESSION_NOT_FOUND: {
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    message: 'No such sign-in session: start again with Login',
    audience: 'public',
  },
  TOKEN_INVALID: {
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    message: 'The token is not valid',
    audience: 'public',
    forHttpStatus: [401],
  },
  TOKEN_EXPIRED: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401, message: 'The token has expired', audience: 'public' },
  TOKEN_REVOKED: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401, message: 'The token has been revoked', audience: 'public' },
  PERMISSION_DENIED: {
    grpc: GrpcStatus.PERMISSION_DENIED,
    http: 403,
    message: 'You do not have permission to do this',
    audience: 'public',
    forHttpStatus: [403],
  },
  FILE_NOT_FOUND: { grpc: GrpcStatus.NOT_FOUND, http: 404, message: 'File not found', audience: 'public' },
  /**
   * A missing resource that is not a file (an account or a storage node named by an admin, or an
   * unknown REST route): the one code outside CONTRACT.md §3, documented in the README. Files
   * are always FILE_NOT_FOUND.
   */
  NOT_FOUND: { grpc: GrpcStatus.NOT_FOUND, http: 404, message: 'Not found', audience: 'admin', forHttpStatus: [404] },
  RATE_LIMITED: {
    grpc: GrpcStatus.RESOURCE_EXHAUSTED,
    http: 429,
    message: 'Too many requests, try again later',
    audience: 'public',
    forHttpStatus: [429],
  },
  ACCOUNT_LOCKED: {
    grpc: GrpcStatus.RESOURCE_EXHAUSTED,
    http: 429,
    message: 'Too many failed sign-ins: the account is locked for now',
    audience: 'public',
  },
  QUOTA_EXCEEDED: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 413, message: 'Storage quota exceeded', audience: 'public' },
  FILE_TOO_LARGE: {
    grpc: GrpcStatus.RESOURCE_EXHAUSTED,
    http: 413,
    message: 'The file is too large',
    audience: 'public',
    forHttpStatus: [413],
  },
  CHECKSUM_MISMATCH: {
    grpc: GrpcStatus.DATA_LOSS,
    http: 500,
    message: 'The data does not match its checksum',
    audience: 'public',
  },
  STORAGE_UNAVAILABLE: {
    grpc: GrpcStatus.UNAVAILABLE,
    http: 503,
    message: 'Storage is unavailable, try again later',
    audience: 'public',
  },
  /** An internal service (auth, metadata) did not answer in time: STORAGE_UNAVAILABLE at the public edge. */
  SERVICE_UNAVAILABLE: {
    grpc: GrpcStatus.UNAVAILABLE,
    http: 503,
    message: 'A service is unavailable, try again later',
    audience: 'internal',
  },
  INTERNAL_ERROR: { grpc: GrpcStatus.INTERNAL, http: 500, message: 'Internal error', audience: 'public' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/**
 * Internal-only codes, and the contract code a client is given for each at the public edge (the
 * gateway): an internal service that does not answer leaves the file service unavailable.
 */
const PUBLIC_CODE_OF: {
  readonly [C in ErrorCode as (typeof ERROR_CATALOGUE)[C]['audience'] extends 'internal' ? C : never]: ErrorCode;
} = {
  SERVICE_UNAVAILABLE: 'STORAGE_UNAVAILABLE',
};

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
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOGUE, value);
}

/**
 * An expected failure with a contract code. Its message is safe to show to the caller (and cut
 * to {@link MAX_ERROR_MESSAGE_BYTES}); anything else thrown is an internal error whose detail
 * stays in the log. Never made directly: throw the class of the code ({@link QuotaExceededError}),
 * or {@link domainError} for a code known only at run time.
 */
export abstract class DomainError extends Error {
  protected constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CATALOGUE[code].message,
    /** Seconds after which a retry may succeed (rate limits, lockouts). */
    readonly retryAfterSeconds?: number,
  ) {
    super(boundErrorText(message));
    this.name = new.target.name;
  }

  /** The gRPC status of this error's code. */
  get grpcStatus(): GrpcStatus {
    return ERROR_CATALOGUE[this.code].grpc;
  }

  /** The HTTP status of this error's code. */
  get httpStatus(): number {
    return ERROR_CATALOGUE[this.code].http;
  }
}

/** The class of one code: `new QuotaExceededError()` (the catalogue's message) or with a message of its own. */
export interface DomainErrorClass<C extends ErrorCode> {
  new (message?: string, retryAfterSeconds?: number): DomainErrorOf<C>;
}

/** A domain error of one code. */
export type DomainErrorOf<C extends ErrorCode> = DomainError & { readonly code: C };

const CLASS_OF = new Map<ErrorCode, DomainErrorClass<ErrorCode>>();

/** `QUOTA_EXCEEDED` → `QuotaExceededError`. */
function className(code: ErrorCode): string {
  return `${code
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('')}Error`;
}

function errorClass<C extends ErrorCode>(code: C): DomainErrorClass<C> {
  const named = {
    [className(code)]: class extends DomainError {
      declare readonly code: C;
      constructor(message?: string, retryAfterSeconds?: number) {
        super(code, message, retryAfterSeconds);
      }
    },
  };
  const ErrorOfCode = named[className(code)] as DomainErrorClass<C>;
  CLASS_OF.set(code, ErrorOfCode);
  return ErrorOfCode;
}

/** The typed error of a code known only at run time (one that crossed the wire). */
export function domainError(code: ErrorCode, message?: string, retryAfterSeconds?: number): DomainError {
  const ErrorOfCode = CLASS_OF.get(code);
  if (!ErrorOfCode) throw new Error(`No error class for ${code}`);
  return new ErrorOfCode(message, retryAfterSeconds);
}

/** The error as a client of the public API may see it: internal-only codes become contract codes. */
export function publicError(error: DomainError): DomainError {
  const code = (PUBLIC_CODE_OF as Partial<Record<ErrorCode, ErrorCode>>)[error.code];
  return code ? domainError(code, error.message, error.retryAfterSeconds) : error;
}

/** A framework's failure that has only an HTTP status (unknown route, malformed body) as a domain error. */
export function errorForHttpStatus(status: number, message: string): DomainError {
  const entry = Object.entries(ERROR_CATALOGUE).find(([, value]) =>
    ((value as CatalogueEntry).forHttpStatus ?? []).includes(status),
  );
  if (entry) return domainError(entry[0] as ErrorCode, message);
  return status >= 500 ? new InternalErrorError() : new InvalidArgumentError(message);
}

/* One class per code (`name` is the class name). */
export const InvalidUsernameError = errorClass('INVALID_USERNAME');
export type InvalidUsernameError = DomainErrorOf<'INVALID_USERNAME'>;
export const InvalidEmailError = errorClass('INVALID_EMAIL');
export type InvalidEmailError = DomainErrorOf<'INVALID_EMAIL'>;
export const WeakPasswordError = errorClass('WEAK_PASSWORD');
export type WeakPasswordError = DomainErrorOf<'WEAK_PASSWORD'>;
export const InvalidFilenameError = errorClass('INVALID_FILENAME');
export type InvalidFilenameError = DomainErrorOf<'INVALID_FILENAME'>;
export const InvalidArgumentError = errorClass('INVALID_ARGUMENT');
export type InvalidArgumentError = DomainErrorOf<'INVALID_ARGUMENT'>;
export const UsernameTakenError = errorClass('USERNAME_TAKEN');
export type UsernameTakenError = DomainErrorOf<'USERNAME_TAKEN'>;
export const EmailTakenError = errorClass('EMAIL_TAKEN');
export type EmailTakenError = DomainErrorOf<'EMAIL_TAKEN'>;
export const InvalidCredentialsError = errorClass('INVALID_CREDENTIALS');
export type InvalidCredentialsError = DomainErrorOf<'INVALID_CREDENTIALS'>;
export const InvalidOtpError = errorClass('INVALID_OTP');
export type InvalidOtpError = DomainErrorOf<'INVALID_OTP'>;
export const OtpExpiredError = errorClass('OTP_EXPIRED');
export type OtpExpiredError = DomainErrorOf<'OTP_EXPIRED'>;
export const SessionNotFoundError = errorClass('SESSION_NOT_FOUND');
export type SessionNotFoundError = DomainErrorOf<'SESSION_NOT_FOUND'>;
export const TokenInvalidError = errorClass('TOKEN_INVALID');
export type TokenInvalidError = DomainErrorOf<'TOKEN_INVALID'>;
export const TokenExpiredError = errorClass('TOKEN_EXPIRED');
export type TokenExpiredError = DomainErrorOf<'TOKEN_EXPIRED'>;
export const TokenRevokedError = errorClass('TOKEN_REVOKED');
export type TokenRevokedError = DomainErrorOf<'TOKEN_REVOKED'>;
export const PermissionDeniedError = errorClass('PERMISSION_DENIED');
export type PermissionDeniedError = DomainErrorOf<'PERMISSION_DENIED'>;
export const FileNotFoundError = errorClass('FILE_NOT_FOUND');
export type FileNotFoundError = DomainErrorOf<'FILE_NOT_FOUND'>;
export const NotFoundError = errorClass('NOT_FOUND');
export type NotFoundError = DomainErrorOf<'NOT_FOUND'>;
/** With `retryAfterSeconds`: sent as `retry-after`. */
export const RateLimitedError = errorClass('RATE_LIMITED');
export type RateLimitedError = DomainErrorOf<'RATE_LIMITED'>;
/** With `retryAfterSeconds`: sent as `retry-after`. */
export const AccountLockedError = errorClass('ACCOUNT_LOCKED');
export type AccountLockedError = DomainErrorOf<'ACCOUNT_LOCKED'>;
export const QuotaExceededError = errorClass('QUOTA_EXCEEDED');
export type QuotaExceededError = DomainErrorOf<'QUOTA_EXCEEDED'>;
export const FileTooLargeError = errorClass('FILE_TOO_LARGE');
export type FileTooLargeError = DomainErrorOf<'FILE_TOO_LARGE'>;
export const ChecksumMismatchError = errorClass('CHECKSUM_MISMATCH');
export type ChecksumMismatchError = DomainErrorOf<'CHECKSUM_MISMATCH'>;
export const StorageUnavailableError = errorClass('STORAGE_UNAVAILABLE');
export type StorageUnavailableError = DomainErrorOf<'STORAGE_UNAVAILABLE'>;
export const ServiceUnavailableError = errorClass('SERVICE_UNAVAILABLE');
export type ServiceUnavailableError = DomainErrorOf<'SERVICE_UNAVAILABLE'>;
export const InternalErrorError = errorClass('INTERNAL_ERROR');
export type InternalErrorError = DomainErrorOf<'INTERNAL_ERROR'>;
