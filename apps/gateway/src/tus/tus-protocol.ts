import { DomainError, type ErrorCode, InvalidArgumentError } from '@cloudstore/contracts';

/** The protocol version served (https://tus.io/protocols/resumable-upload, 1.0.0). */
export const TUS_VERSION = '1.0.0';

/** The extensions served; `Upload-Defer-Length` (creation-defer-length) and concatenation are not. */
export const TUS_EXTENSIONS = ['creation', 'creation-with-upload', 'termination', 'expiration', 'checksum'] as const;

export const TUS_CHECKSUM_ALGORITHMS = ['sha256'] as const;

/** The content type of the bytes of a PATCH (and of a creation-with-upload POST). */
export const TUS_CONTENT_TYPE = 'application/offset+octet-stream';

/**
 * A refusal the protocol gives an HTTP status of its own (409 wrong offset, 412 other version, 415
 * other content type, 423 locked, 460 checksum mismatch), under the error catalogue's code.
 */
export class TusRefusal extends DomainError {
  constructor(
    code: ErrorCode,
    private readonly status: number,
    message: string,
  ) {
    super(code, message);
  }

  override get httpStatus(): number {
    return this.status;
  }
}

/** A PATCH whose bytes do not match its Upload-Checksum: none of them is kept. */
export class ChecksumRefusal extends TusRefusal {
  constructor() {
    super('CHECKSUM_MISMATCH', 460, 'The bytes sent do not match their Upload-Checksum; none of them was kept');
  }
}

/** A non-negative integer header (Upload-Length, Upload-Offset); INVALID_ARGUMENT naming it otherwise. */
export function byteCountHeader(name: string, value: string | undefined): number {
  if (value === undefined) throw new InvalidArgumentError(`The ${name} header is missing`);
  const count = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(count)) throw new InvalidArgumentError(`The ${name} header must be a number of bytes`);
  return count;
}

/**
 * Upload-Metadata: comma-separated pairs of a key and its value in base64, or a key alone.
 * INVALID_ARGUMENT for a malformed or repeated key, or a value that is not base64.
 */
export function parseUploadMetadata(header: string | undefined): Map<string, string> {
  const pairs = new Map<string, string>();
  if (!header?.trim()) return pairs;
  for (const pair of header.split(',')) {
    const [key, value, ...rest] = pair.trim().split(' ');
    if (!key || rest.length > 0 || !/^[\x21-\x7e]+$/.test(key) || pairs.has(key))
      throw new InvalidArgumentError('Upload-Metadata must be comma-separated keys, each with one base64 value at most');
    if (value !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(value))
      throw new InvalidArgumentError(`The Upload-Metadata value of ${key} is not base64`);
    pairs.set(key, value === undefined ? '' : Buffer.from(value, 'base64').toString('utf8'));
  }
  return pairs;
}

/** Upload-Checksum: `sha256 <digest in base64>`; the digest, or INVALID_ARGUMENT for another algorithm or a malformed one. */
export function parseUploadChecksum(header: string | undefined): Buffer | undefined {
  if (header === undefined) return undefined;
  const [algorithm, digest, ...rest] = header.trim().split(' ');
  if (algorithm !== 'sha256' || rest.length > 0)
    throw new InvalidArgumentError(`Upload-Checksum must use ${TUS_CHECKSUM_ALGORITHMS.join(', ')}`);
  const bytes = digest && /^[A-Za-z0-9+/]+={0,2}$/.test(digest) ? Buffer.from(digest, 'base64') : Buffer.alloc(0);
  if (bytes.length !== 32) throw new InvalidArgumentError('The Upload-Checksum digest must be 32 bytes in base64');
  return bytes;
}

/** Unix seconds as Upload-Expires gives them: an HTTP date (RFC 9110). */
export function httpDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toUTCString();
}
