import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { runWithRequestId } from './request-context';

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, stream };
}

describe(createLogger.name, () => {
  it('never writes passwords, codes or tokens, wherever they are in the logged object', () => {
    const { lines, stream } = capture();
    const sut = createLogger('test', 'info', stream);
    sut.info(
      { password: 'hunter2', otp: '123456', user: 'alice', request: { authToken: 'abc', refreshToken: 'def', path: '/x' } },
      'hello',
    );
    // The line is written, with what is not secret kept and each secret replaced where it was.
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'hello',
        password: '[redacted]',
        otp: '[redacted]',
        user: 'alice',
        request: { authToken: '[redacted]', refreshToken: '[redacted]', path: '/x' },
      }),
    ]);
    const text = JSON.stringify(lines);
    for (const secret of ['hunter2', '123456', 'abc', 'def']) expect(text).not.toContain(secret);
  });

  it('drops the bound parameters of a failed SQL query from logged errors', () => {
    const { lines, stream } = capture();
    const sut = createLogger('test', 'info', stream);
    const error = Object.assign(new Error('duplicate key'), { query: 'INSERT …', parameters: ['$argon2id$secret-hash'] });
    sut.error({ err: error }, 'failed');
    expect(JSON.stringify(lines)).not.toContain('secret-hash');
    expect(lines[0]?.['err']).toMatchObject({ message: 'duplicate key', query: 'INSERT …' });
  });

  it('stamps every line logged inside a request with its id', () => {
    const { lines, stream } = capture();
    const sut = createLogger('test', 'info', stream);
    runWithRequestId('req-42', () => sut.info('inside'));
    sut.info('outside');
    expect(lines.map((l) => l['request_id'])).toEqual(['req-42', undefined]);
  });
});
