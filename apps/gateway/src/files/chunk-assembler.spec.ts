import { createHash, randomBytes } from 'node:crypto';
import { ChunkAssembler } from './chunk-assembler';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

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
    expect(chunks.map((c) => c.data.length)).toEqual(expected);
    expect(Buffer.concat(chunks.map((c) => c.data)).equals(data)).toBe(true);
    expect(chunks.map((c) => c.sha256)).toEqual(chunks.map((c) => sha(c.data)));
  });

  it('keeps a chunk intact while the next one fills', () => {
    const sut = new ChunkAssembler(4);
    const [first] = [...sut.push(Buffer.from('abcd'))];
    expect([...sut.push(Buffer.from('efgh'))]).toHaveLength(1);
    expect(first?.data.toString()).toBe('abcd');
  });
});
