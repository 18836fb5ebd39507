import { InvalidFilenameError } from '@cloudstore/contracts';

export const MAX_FILENAME_BYTES = 255;

/**
 * The name a file is stored and listed under: Unicode NFC, the last path segment only (no `/` or
 * `\`), control characters removed, surrounding spaces trimmed. A name that cannot be made safe
 * (empty, `.`, `..`, longer than 255 bytes of UTF-8) is refused with INVALID_FILENAME.
 */
export function sanitizeFilename(raw: string): string {
  const segments = raw.normalize('NFC').split(/[/\\]/);
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const name = (segments.at(-1) ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim();
  if (name === '' || name === '.' || name === '..') {
    throw new InvalidFilenameError('The filename is empty, or only a path: give a file name');
  }
  if (Buffer.byteLength(name, 'utf8') > MAX_FILENAME_BYTES) {
    throw new InvalidFilenameError(`The filename is longer than ${MAX_FILENAME_BYTES} bytes of UTF-8`);
  }
  return name;
}
