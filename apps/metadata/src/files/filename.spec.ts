import { InvalidFilenameError } from '@cloudstore/contracts';
import { filenameForAudit, sanitizeFilename } from './filename';

describe(sanitizeFilename.name, () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\windows\\win.ini', 'win.ini'],
    ['/absolute/path/notes.txt', 'notes.txt'],
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

  it.each([
    ['NUL', 'report\u0000.pdf'],
    ['tab', 'tab\there.txt'],
    ['newline', 'a\nb.txt'],
    ['escape', '\u001b[31mred.txt'],
    ['DEL', 'x\u007f.txt'],
    ['C1 control', 'x\u0085.txt'],
    ['right-to-left override', 'invoice\u202Etxt.exe'],
    ['left-to-right embedding', '\u202Aname.txt'],
    ['pop directional formatting', 'name\u202C.txt'],
    ['right-to-left isolate', 'photo\u2067gpj.exe'],
    ['pop directional isolate', 'photo\u2069.jpg'],
    ['control in a path segment that is dropped', 'dir\u0001/name.txt'],
  ])('refuses a name with a %s character with INVALID_FILENAME', (_what, raw) => {
    expect(() => sanitizeFilename(raw)).toThrow(expect.objectContaining({ code: 'INVALID_FILENAME' }) as Error);
  });

  it('keeps other format characters (zero-width joiner in an emoji, Arabic letters)', () => {
    expect(sanitizeFilename('👩\u200d💻 notes.txt')).toBe('👩\u200d💻 notes.txt');
    expect(sanitizeFilename('تقرير.pdf')).toBe('تقرير.pdf');
  });

  it('refuses more than 4 KiB as received before normalising it', () => {
    const normalize = jest.spyOn(String.prototype, 'normalize');
    try {
      expect(() => sanitizeFilename(`${'a/'.repeat(3000)}x.txt`)).toThrow(/longer than 4096 bytes/);
      expect(() => sanitizeFilename('😀'.repeat(1025))).toThrow(InvalidFilenameError);
      expect(normalize).not.toHaveBeenCalled();
    } finally {
      normalize.mockRestore();
    }
  });

  it('accepts exactly 255 bytes', () => {
    expect(sanitizeFilename('é'.repeat(127) + 'x')).toHaveLength(128);
  });
});

describe(filenameForAudit.name, () => {
  it('shows forbidden characters as U+FFFD and never cuts a character in half', () => {
    expect(filenameForAudit('a\u0000b\u202Ec.txt')).toBe('a\ufffdb\ufffdc.txt');
    const emoji = '😀'.repeat(300);
    expect(filenameForAudit(emoji)).toBe('😀'.repeat(255));
    expect(filenameForAudit('x\ud800y')).toBe('x\ufffdy');
  });
});
