import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@cloudstore/contracts';
import { byteCountHeader, httpDate, parseUploadChecksum, parseUploadMetadata } from './tus-protocol';

describe('tus headers', () => {
  it('reads Upload-Metadata: keys with base64 values, or alone', () => {
    const header = `filename ${Buffer.from('résumé.pdf').toString('base64')}, is_confidential,filetype dGV4dC9wbGFpbg==`;
    expect(Object.fromEntries(parseUploadMetadata(header))).toEqual({
      filename: 'résumé.pdf',
      is_confidential: '',
      filetype: 'text/plain',
    });
    expect(parseUploadMetadata(undefined).size).toBe(0);
    for (const bad of ['filename a b', 'filename !!', 'a YQ==,a YQ==', 'ключ YQ=='])
      expect(() => parseUploadMetadata(bad)).toThrow(InvalidArgumentError);
  });

  it('reads Upload-Checksum in sha256 only', () => {
    const digest = createHash('sha256').update('x').digest();
    expect(parseUploadChecksum(`sha256 ${digest.toString('base64')}`)).toEqual(digest);
    expect(parseUploadChecksum(undefined)).toBeUndefined();
    for (const bad of ['md5 AAAA', 'sha256', 'sha256 AAAA', `sha1 ${digest.toString('base64')}`])
      expect(() => parseUploadChecksum(bad)).toThrow(InvalidArgumentError);
  });

  it('reads byte counts and writes HTTP dates', () => {
    expect(byteCountHeader('Upload-Offset', '42')).toBe(42);
    for (const bad of [undefined, '-1', '1.5', '', '99999999999999999'])
      expect(() => byteCountHeader('Upload-Offset', bad)).toThrow(InvalidArgumentError);
    expect(httpDate(0)).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
  });
});
