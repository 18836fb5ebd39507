import { InvalidFilenameError } from '@cloudstore/contracts';

export const MAX_FILENAME_BYTES = 255;
/** What a filename may be as received (a path, say), checked before any work is done on it. */
export const MAX_RAW_FILENAME_BYTES = 4096;

/**
 * Characters no filename may hold: C0 and C1 controls and DEL (NUL among them: PostgreSQL text
 * cannot hold it, and terminals act on the rest), and the bidirectional embeddings, overrides
 * and isolates (U+202A–U+202E, U+2066–U+2069), which make `exe.txt` of `txt.exe` on screen.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/**
 * The name a file is stored and listed under: Unicode NFC, the last path segment only (no `/` or
 * `\`), surrounding spaces trimmed. Refused with INVALID_FILENAME: more than 4 KiB as received
 * (before normalising), a control or bidi-override character, or a name that cannot be made
 * safe (empty, `.`, `..`, longer than 255 bytes of UTF-8).
 */
export function sanitizeFilename(raw: string): string {
  if (raw.length > MAX_RAW_FILENAME_BYTES || Buffer.byteLength(raw, 'utf8') > MAX_RAW_FILENAME_BYTES) {
    throw new InvalidFilenameError(`The filename is longer than ${MAX_RAW_FILENAME_BYTES} bytes`);
  }
  if (FORBIDDEN.test(raw)) {
    throw new InvalidFilenameError('The filename contains a control or bidirectional-override character');
  }
  const segments = raw.normalize('NFC').split(/[/\\]/);
  const name = (segments.at(-1) ?? '').trim();
  if (name === '' || name === '.' || name === '..') {
    throw new InvalidFilenameError('The filename is empty, or only a path: give a file name');
  }
  if (Buffer.byteLength(name, 'utf8') > MAX_FILENAME_BYTES) {
    throw new InvalidFilenameError(`The filename is longer than ${MAX_FILENAME_BYTES} bytes of UTF-8`);
  }
  return name;
}

/**
 * A refused filename as the audit log may keep it: at most 255 whole characters (never half of
 * a surrogate pair), each forbidden character shown as U+FFFD, so the event can always be written.
 */
export function filenameForAudit(raw: string): string {
  return [...raw.slice(0, 2 * MAX_FILENAME_BYTES)]
    .slice(0, MAX_FILENAME_BYTES)
    .map((c) => (FORBIDDEN.test(c) || (c.length === 1 && /[\ud800-\udfff]/.test(c)) ? '\ufffd' : c))
    .join('');
}
