import { boundErrorText, DomainError, MAX_ERROR_MESSAGE_BYTES } from './errors';

describe(boundErrorText.name, () => {
  it('keeps a short message as it is', () => {
    expect(boundErrorText('No storage node node-7')).toBe('No storage node node-7');
  });

  it('cuts a long message to the byte budget, marked with an ellipsis', () => {
    const sut = boundErrorText(`No storage node ${'x'.repeat(100_000)}`);
    expect(Buffer.byteLength(sut)).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
    expect(sut.startsWith('No storage node xxx')).toBe(true);
    expect(sut.endsWith('…')).toBe(true);
  });

  it('never cuts inside a character', () => {
    for (const char of ['é', '€', '😀']) {
      const sut = boundErrorText(char.repeat(5000), 100);
      expect(Buffer.byteLength(sut)).toBeLessThanOrEqual(100);
      expect(Buffer.from(sut).toString('utf8')).toBe(sut);
      expect(sut.slice(0, -1)).toBe(char.repeat([...sut].length - 1));
    }
  });
});

describe(DomainError.name, () => {
  it('bounds its message however much input it quotes', () => {
    const sut = new DomainError('INVALID_ARGUMENT', `bad value ${'€'.repeat(100_000)}`);
    expect(Buffer.byteLength(sut.message)).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
  });
});
