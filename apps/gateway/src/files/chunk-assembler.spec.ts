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
    for (let i = 0; i < data.length; i += 333) chunks.push(...sut.push(data.subarray(i, i + 333)));
    const tail = sut.flush();
    if (tail) chunks.push(tail);
    expect(chunks.map((c) => c.length)).toEqual(expected);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('keeps a chunk intact while the next one fills', () => {
    const sut = new ChunkAssembler(4);
    const [first] = [...sut.push(Buffer.from('abcd'))];
    expect([...sut.push(Buffer.from('efgh'))]).toHaveLength(1);
    expect(first?.toString()).toBe('abcd');
  });
});
