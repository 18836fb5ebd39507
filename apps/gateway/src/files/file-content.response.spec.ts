import { servedContentType } from './file-content.response';

describe('the content type a file is served with', () => {
  it('is the stored one, except what a page would run or apply', () => {
    expect(servedContentType('image/png')).toBe('image/png');
    expect(servedContentType('text/plain; charset=utf-8')).toBe('text/plain; charset=utf-8');
    for (const active of [
      'text/javascript',
      'application/javascript',
      'application/x-ecmascript',
      'text/css',
      'TEXT/JavaScript; charset=utf-8',
      '',
    ])
      expect(servedContentType(active)).toBe('application/octet-stream');
  });
});
