import { format, parse } from 'content-type';

const FALLBACK = 'application/octet-stream';

/** A longer media type is no real one; it would only be stored and echoed back on every download. */
const MAX_LENGTH = 255;

/**
 * The media type a file is stored with and served back as: the uploader's value when it is a
 * valid RFC 9110 `type/subtype` (with parameters), normalised; `application/octet-stream` when it
 * is missing or not one (else Express would answer the download with `Content-Type: false`).
 */
export function storedContentType(value: string): string {
  if (!value || value.length > MAX_LENGTH) return FALLBACK;
  try {
    return format(parse(value));
  } catch {
    return FALLBACK;
  }
}
