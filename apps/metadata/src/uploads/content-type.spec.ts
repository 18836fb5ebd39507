import { storedContentType } from './content-type';

describe(storedContentType.name, () => {
  it('keeps a valid media type, normalised', () => {
    expect(storedContentType('image/PNG')).toBe('image/png');
    expect(storedContentType('text/plain; charset=utf-8')).toBe('text/plain; charset=utf-8');
  });

  it('falls back to application/octet-stream for an invalid upload Content-Type instead of storing it', () => {
    for (const value of ['', 'false', 'png', 'text/', '/plain', 'a/b/c', 'text/plain; =x', 'x\u0000/y', `a/${'b'.repeat(300)}`]) {
      expect(storedContentType(value)).toBe('application/octet-stream');
    }
  });
});
