import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { extract } from 'tar-stream';
import { type ArchiveEntry, tarArchive } from './tar-archive';

async function collect(archive: AsyncIterable<Buffer>): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of archive) pieces.push(piece);
  return Buffer.concat(pieces);
}

/** The archive read back with tar-stream's own reader: each entry's name and bytes. */
async function unpack(tar: Buffer): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  for await (const entry of Readable.from([tar]).pipe(extract())) {
    entries.set(entry.header.name, await collect(entry as AsyncIterable<Buffer>));
  }
  return entries;
}

/** `data` a piece at a time, each after a turn of the event loop, as from the network. */
async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) {
    await setImmediate();
    yield data.subarray(i, i + size);
  }
}

async function* listOf(entries: ArchiveEntry[]): AsyncGenerator<ArchiveEntry> {
  for (const entry of entries) {
    await setImmediate();
    yield entry;
  }
}

describe(tarArchive.name, () => {
  it('streams every entry byte-identical, long and non-ASCII names included', async () => {
    const big = randomBytes(3 * 1024 * 1024 + 7);
    const longName = `files/${'ü'.repeat(80)}-ファイル.bin`;
    const archive = tarArchive(
      listOf([
        { name: 'files/a.txt', size: 5, mtime: new Date(0), body: Buffer.from('hello') },
        { name: longName, size: big.length, mtime: new Date(), body: pieces(big, 65_536) },
        { name: 'files/empty', size: 0, mtime: new Date(), body: pieces(Buffer.alloc(0), 1) },
      ]),
    );
    const entries = await unpack(await collect(archive));
    expect([...entries.keys()]).toEqual(['files/a.txt', longName, 'files/empty']);
    expect(entries.get('files/a.txt')?.toString()).toBe('hello');
    expect(entries.get(longName)?.equals(big)).toBe(true);
    expect(entries.get('files/empty')?.length).toBe(0);
  });

  it('fails the archive when a body fails or is not the size it was announced with', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from('part');
      await setImmediate();
      throw new Error('the storage went away');
    }
    await expect(collect(tarArchive(listOf([{ name: 'x', size: 10, mtime: new Date(), body: failing() }])))).rejects.toThrow(
      'the storage went away',
    );
    await expect(
      collect(tarArchive(listOf([{ name: 'x', size: 10, mtime: new Date(), body: pieces(Buffer.alloc(4), 4) }]))),
    ).rejects.toThrow(/size mismatch/i);
  });

  it('stops reading the entries when its consumer stops', async () => {
    let returned = false;
    async function* endless(): AsyncGenerator<Buffer> {
      try {
        for (;;) {
          await setImmediate();
          yield randomBytes(65_536);
        }
      } finally {
        returned = true;
      }
    }
    const archive = tarArchive(listOf([{ name: 'big', size: 1024 ** 4, mtime: new Date(), body: endless() }]));
    await archive.next();
    await archive.next();
    await archive.return(undefined);
    expect(returned).toBe(true);
  });
});
