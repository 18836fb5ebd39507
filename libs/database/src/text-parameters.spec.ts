import { isStorableText, substringPattern } from './text-parameters';

describe(substringPattern.name, () => {
  it('escapes LIKE wildcards and lowers the case', () => {
    expect(substringPattern('50%_A\\b')).toBe('%50\\%\\_a\\\\b%');
  });

  it('gives no pattern for a filter with U+0000, which no stored text can match', () => {
    expect(substringPattern('a\u0000b')).toBeUndefined();
    expect(isStorableText('\u0000')).toBe(false);
    expect(isStorableText('ordinary \u{1f600}')).toBe(true);
  });
});
