import {
  boundErrorText,
  DomainError,
  domainError,
  ERROR_CATALOGUE,
  type ErrorCode,
  errorForHttpStatus,
  InvalidArgumentError,
  MAX_ERROR_MESSAGE_BYTES,
  publicError,
  QuotaExceededError,
  RateLimitedError,
  ServiceUnavailableError,
} from './errors';

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
    const sut = new InvalidArgumentError(`bad value ${'€'.repeat(100_000)}`);
    expect(Buffer.byteLength(sut.message)).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
  });
});

describe('the error catalogue', () => {
  const codes = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

  it('has a typed class for every code, named after it, with the code’s statuses', () => {
    for (const code of codes) {
      const sut = domainError(code, 'detail');
      expect(sut).toBeInstanceOf(DomainError);
      expect(sut.code).toBe(code);
      expect(sut.name).toBe(`${code.toLowerCase().replace(/(?:^|_)([a-z])/g, (_, c: string) => c.toUpperCase())}Error`);
      expect([sut.grpcStatus, sut.httpStatus]).toEqual([ERROR_CATALOGUE[code].grpc, ERROR_CATALOGUE[code].http]);
    }
    expect(new QuotaExceededError()).toBeInstanceOf(QuotaExceededError);
    expect(domainError('QUOTA_EXCEEDED')).toBeInstanceOf(QuotaExceededError);
    expect(new QuotaExceededError().message).toBe(ERROR_CATALOGUE.QUOTA_EXCEEDED.message);
  });

  it('keeps the retry time of rate limits', () => {
    expect(new RateLimitedError(undefined, 30).retryAfterSeconds).toBe(30);
  });

  it('shows a client only public codes (NOT_FOUND only to admins)', () => {
    for (const code of codes) {
      const seen = publicError(domainError(code)).code;
      expect(ERROR_CATALOGUE[seen].audience).not.toBe('internal');
    }
    expect(publicError(new ServiceUnavailableError('auth is down'))).toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      message: 'auth is down',
    });
    expect(codes.filter((code) => ERROR_CATALOGUE[code].audience === 'admin')).toEqual(['NOT_FOUND']);
  });

  it('gives framework errors the code of their HTTP status, INVALID_ARGUMENT for other 4xx', () => {
    expect(errorForHttpStatus(404, 'Cannot GET /x').code).toBe('NOT_FOUND');
    expect(errorForHttpStatus(413, 'too large').code).toBe('FILE_TOO_LARGE');
    expect(errorForHttpStatus(415, 'media type').code).toBe('INVALID_ARGUMENT');
    expect(errorForHttpStatus(418, 'teapot').code).toBe('INVALID_ARGUMENT');
    expect(errorForHttpStatus(401, 'no').code).toBe('TOKEN_INVALID');
  });
});
