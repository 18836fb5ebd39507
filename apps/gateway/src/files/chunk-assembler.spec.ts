import { randomBytes } from 'node:crypto';
import { ChunkAssembler } from './chunk-assembler';

describe(ChunkAssembler.name, () => {
  it.each([
    [0, []],
    [1, [1]],
    [1000, [1000]],
    [1001, [1000, 1]],
    [3500, [1000, 1000, 1000, 500]],
  ])('cuts %i bytes into chunks of %j', (size, expected) => {
    const data = randomBytes(size);
    const sut = new ChunkAssembler(1000);
    const chunks = [];
    // A chunk is used before the assembler goes on, as the upload seals it.
    for (let i = 0; i < data.length; i += 333)
      for (const chunk of sut.push(data.subarray(i, i + 333))) chunks.push(Buffer.from(chunk));
    const tail = sut.flush();
    if (tail) chunks.push(Buffer.from(tail));
    expect(chunks.map((c) => c.length)).toEqual(expected);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('hands out each chunk in the one buffer it reuses, whole until the assembler goes on', () => {
    const sut = new ChunkAssembler(4);
    const pieces = sut.push(Buffer.from('abcdef'));
    const first = pieces.next().value as Buffer;
    expect(first.toString()).toBe('abcd');
    expect(pieces.next().done).toBe(true);
    const second = sut.flush() as Buffer;
    expect(second.toString()).toBe('ef');
    expect(second.buffer).toBe(first.buffer);
  });
});
