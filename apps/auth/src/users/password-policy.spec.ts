import {
  assertPasswordAllowed,
  commonPasswords,
  isCommonPassword,
  isOversizedPassword,
  MAX_PASSWORD_BYTES,
} from './password-policy';

const context = { username: 'alice_smith', emailLocalPart: 'alice.s' };

describe(assertPasswordAllowed.name, () => {
  it('refuses a password over 1 KiB of raw bytes before normalising it', () => {
    const normalize = jest.spyOn(String.prototype, 'normalize');
    try {
      // 300 astral characters: 600 UTF-16 units, 1200 bytes.
      const oversized = `Aa1!${'😀'.repeat(300)}`;
      expect(() => assertPasswordAllowed('seed', oversized, context)).toThrow(`at most ${MAX_PASSWORD_BYTES} bytes`);
      expect(() => assertPasswordAllowed('seed', 'x'.repeat(20 * 1024 * 1024), context)).toThrow(
        expect.objectContaining({ code: 'WEAK_PASSWORD' }) as Error,
      );
      expect(normalize).not.toHaveBeenCalled();
    } finally {
      normalize.mockRestore();
    }
  });

  it('ships at least the 10,000 most common passwords', () => {
    expect(commonPasswords().size).toBeGreaterThanOrEqual(10_000);
    expect(commonPasswords().has('123456')).toBe(true);
  });

  it.each(['Sup3r-Secret-Pass!', 'correct Horse 7 battery', 'Ünïcödé-Pässwörd-7'])(
    'accepts %j under the seed policy',
    (password) => {
      expect(() => assertPasswordAllowed('seed', password, context)).not.toThrow();
    },
  );

  it.each([
    ['Short1!', /at least 12 characters/],
    ['no-upper-case-123', /an upper-case letter/],
    ['NO-LOWER-CASE-123', /a lower-case letter/],
    ['No-Digits-Anywhere', /a digit/],
    ['NoSpecialChars123', /a special character/],
    ['Password123!', /too common/],
    ['P@ssw0rd2024!!', /too common/],
    ['Xx1!alice_smithYY', /your username/],
    ['Xx1!ALICE.SyyyYY', /email address/],
    [`A1!${'b'.repeat(126)}`, /at most 128 characters/],
  ])('refuses %j under the seed policy, saying why', (password, reason) => {
    expect(() => assertPasswordAllowed('seed', password, context)).toThrow(reason);
  });

  it('counts characters, not bytes, and never truncates', () => {
    const long = `É1!${'ж'.repeat(125)}`;
    expect([...long].length).toBe(128);
    expect(() => assertPasswordAllowed('seed', long, context)).not.toThrow();
    expect(() => assertPasswordAllowed('seed', `${long}x`, context)).toThrow(/at most 128/);
  });

  it('under the NIST policy needs 15 characters and no composition rules', () => {
    expect(() => assertPasswordAllowed('nist', 'all lower case words here', context)).not.toThrow();
    expect(() => assertPasswordAllowed('nist', 'Sup3r-Secret!', context)).toThrow(/at least 15 characters/);
    expect(() => assertPasswordAllowed('nist', 'password1234567', context)).toThrow(/too common/);
  });

  it('sees through decorations and digits for letters', () => {
    expect(isCommonPassword('!!Dragon2024')).toBe(true);
    expect(isCommonPassword('Tr0ub4dor&3-horse')).toBe(false);
  });
});

describe(isOversizedPassword.name, () => {
  it('counts UTF-8 bytes as received: 1024 is allowed, 1025 is not', () => {
    expect(isOversizedPassword('a'.repeat(1024))).toBe(false);
    expect(isOversizedPassword('a'.repeat(1025))).toBe(true);
    expect(isOversizedPassword('é'.repeat(512))).toBe(false);
    expect(isOversizedPassword(`${'é'.repeat(512)}a`)).toBe(true);
    // NFD "é" (e + combining accent) is 3 bytes raw, though NFC would make it 2.
    expect(isOversizedPassword('e\u0301'.repeat(342))).toBe(true);
  });
});
