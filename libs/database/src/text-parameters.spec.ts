import { isStorableText, storableText, substringPattern } from './text-parameters';

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

describe(storableText.name, () => {
  it('removes U+0000 and keeps the rest', () => {
    expect(storableText('ad\u0000min', 64)).toBe('admin');
  });

  it('replaces a lone surrogate left by slice(0, 64) inside an emoji, and cuts by code points', () => {
    const cut = `${'a'.repeat(63)}\u{1f600}`.slice(0, 64);
    expect(storableText(cut, 64)).toBe(`${'a'.repeat(63)}\ufffd`);
    expect(storableText('\udc00x\ud800', 64)).toBe('\ufffdx\ufffd');
    expect(storableText('\u{1f600}'.repeat(3), 2)).toBe('\u{1f600}\u{1f600}');
    expect(Buffer.from(storableText(cut, 64)).toString()).toBe(storableText(cut, 64));
  });
});
