import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { downloadMessages } from './grpc-transfer';

const MiB = 1024 * 1024;

function pieces(data: Buffer, size: number): Buffer[] {
  const all: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += size) all.push(data.subarray(offset, offset + size));
  return all;
}

describe(downloadMessages.name, () => {
  it.each([
    ['nothing', 0, 65_536],
    ['less than a message', 1000, 65_536],
    ['exactly two messages', 2 * MiB, 65_536],
    ['two messages and a bit, in odd pieces', 2 * MiB + 7, 65_521],
    ['pieces larger than a message', 3 * MiB + 5, 5 * MiB],
  ])('gathers %s into 1 MiB messages, the last one shorter and final', async (_case, size, pieceSize) => {
    const data = randomBytes(size);
    const messages = [];
    for await (const message of downloadMessages(Readable.from(pieces(data, pieceSize)))) messages.push(message);

    expect(Buffer.concat(messages.map((m) => m.chunk)).equals(data)).toBe(true);
    expect(messages.map((m) => m.isFinal)).toEqual(messages.map((_, i) => i === messages.length - 1));
    expect(messages.slice(0, -1).every((m) => m.chunk.length === MiB)).toBe(true);
    expect(messages.at(-1)?.chunk.length).toBe(size === 0 ? 0 : size % MiB || MiB);
  });
});
