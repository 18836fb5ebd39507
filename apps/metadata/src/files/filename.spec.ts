import { InvalidFilenameError } from '@cloudstore/contracts';
import { sanitizeFilename } from './filename';

describe(sanitizeFilename.name, () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\windows\\win.ini', 'win.ini'],
    ['/absolute/path/notes.txt', 'notes.txt'],
    ['tab\there\u0000.txt', 'tabhere.txt'],
    ['  spaced name.txt  ', 'spaced name.txt'],
    ['cafe\u0301.txt', 'café.txt'],
    ['100% _sure_.md', '100% _sure_.md'],
    ['.hidden', '.hidden'],
  ])('stores %j as %j', (raw, stored) => {
    expect(sanitizeFilename(raw)).toBe(stored);
  });

  it.each(['', '   ', '.', '..', 'dir/', '../..', '\u0000\u0001', 'a'.repeat(256), 'é'.repeat(128)])(
    'refuses %j with INVALID_FILENAME',
    (raw) => {
      expect(() => sanitizeFilename(raw)).toThrow(InvalidFilenameError);
    },
  );

  it('accepts exactly 255 bytes', () => {
    expect(sanitizeFilename('é'.repeat(127) + 'x')).toHaveLength(128);
  });
});
