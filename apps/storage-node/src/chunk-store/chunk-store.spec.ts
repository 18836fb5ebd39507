import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { waitFor } from '@cloudstore/testing';
import { ChunkNotFoundError, ChunkStore } from './chunk-store';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function pieces(data: Buffer, size = 1000): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

async function readAll(store: ChunkStore, chunkId: string): Promise<Buffer> {
  const { stream } = await store.read(chunkId);
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

describe(ChunkStore.name, () => {
  let dir: string;
  let sut: ChunkStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chunk-store-'));
    sut = new ChunkStore(dir);
    await sut.open();
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a chunk and reads the same bytes back', async () => {
    const data = randomBytes(10_000);
    await sut.write('chunk-aaaaaaaa', { sha256: sha256(data), size: data.length }, pieces(data));
    expect((await readAll(sut, 'chunk-aaaaaaaa')).equals(data)).toBe(true);
    expect(await sut.stat('chunk-aaaaaaaa', true)).toEqual({ size: data.length, sha256: sha256(data) });
    expect(sut.usage()).toEqual({ usedBytes: data.length, chunkCount: 1 });
  });

  it('stores an empty chunk', async () => {
    const empty = Buffer.alloc(0);
    await sut.write('chunk-empty000', { sha256: sha256(empty), size: 0 }, pieces(empty));
    expect((await readAll(sut, 'chunk-empty000')).length).toBe(0);
  });

  it('rejects bytes that do not match the SHA-256 and leaves nothing behind', async () => {
    const data = randomBytes(5000);
    await expect(
      sut.write('chunk-bbbbbbbb', { sha256: sha256(randomBytes(10)), size: data.length }, pieces(data)),
    ).rejects.toMatchObject({
      code: 'CHECKSUM_MISMATCH',
    });
    await expect(sut.stat('chunk-bbbbbbbb', false)).rejects.toBeInstanceOf(ChunkNotFoundError);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(sut.usage()).toEqual({ usedBytes: 0, chunkCount: 0 });
  });

  it('rejects a stream longer or shorter than the declared size', async () => {
    const data = randomBytes(3000);
    await expect(sut.write('chunk-cccccccc', { sha256: sha256(data), size: 2000 }, pieces(data))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(sut.write('chunk-cccccccc', { sha256: sha256(data), size: 4000 }, pieces(data))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('never shows a chunk before its last byte is written and verified', async () => {
    const data = randomBytes(4000);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let firstHalfWritten = false;
    async function* slow(): AsyncGenerator<Buffer> {
      yield data.subarray(0, 2000);
      // The store asks for more only once it has written what it was given.
      firstHalfWritten = true;
      await gate;
      yield data.subarray(2000);
    }
    const writing = sut.write('chunk-dddddddd', { sha256: sha256(data), size: data.length }, slow());
    await waitFor('the first half written', () => firstHalfWritten, 5000, 5);
    await expect(sut.stat('chunk-dddddddd', false)).rejects.toBeInstanceOf(ChunkNotFoundError);
    await expect(sut.read('chunk-dddddddd')).rejects.toBeInstanceOf(ChunkNotFoundError);
    release();
    await writing;
    expect((await readAll(sut, 'chunk-dddddddd')).equals(data)).toBe(true);
  });

  it('drops torn temp files of an interrupted write when it opens', async () => {
    await writeFile(join(dir, 'tmp', 'chunk-eeeeeeee.abc123'), randomBytes(100));
    const reopened = new ChunkStore(dir);
    await reopened.open();
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    await expect(reopened.stat('chunk-eeeeeeee', false)).rejects.toBeInstanceOf(ChunkNotFoundError);
    expect(reopened.usage()).toEqual({ usedBytes: 0, chunkCount: 0 });
  });

  it('counts existing chunks when it opens', async () => {
    const data = randomBytes(1234);
    await sut.write('chunk-ffffffff', { sha256: sha256(data), size: data.length }, pieces(data));
    const reopened = new ChunkStore(dir);
    await reopened.open();
    expect(reopened.usage()).toEqual({ usedBytes: 1234, chunkCount: 1 });
    const listed = [];
    for await (const chunk of reopened.walk()) listed.push(chunk);
    expect(listed).toEqual([{ chunkId: 'chunk-ffffffff', size: 1234 }]);
  });

  it('overwrites a chunk idempotently without double counting', async () => {
    const data = randomBytes(500);
    const expected = { sha256: sha256(data), size: data.length };
    await sut.write('chunk-gggggggg', expected, pieces(data));
    await sut.write('chunk-gggggggg', expected, pieces(data));
    expect(sut.usage()).toEqual({ usedBytes: 500, chunkCount: 1 });
  });

  it('deletes a chunk, and a second delete reports it gone', async () => {
    const data = randomBytes(700);
    await sut.write('chunk-hhhhhhhh', { sha256: sha256(data), size: data.length }, pieces(data));
    expect(await sut.delete('chunk-hhhhhhhh')).toBe(true);
    expect(await sut.delete('chunk-hhhhhhhh')).toBe(false);
    await expect(sut.read('chunk-hhhhhhhh')).rejects.toBeInstanceOf(ChunkNotFoundError);
    expect(sut.usage()).toEqual({ usedBytes: 0, chunkCount: 0 });
  });

  it.each(['../../etc/passwd', 'a/b/cccccccc', 'short', 'x'.repeat(200)])('refuses the chunk id %j', async (chunkId) => {
    const data = randomBytes(10);
    await expect(sut.write(chunkId, { sha256: sha256(data), size: 10 }, pieces(data))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(sut.read(chunkId)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('refuses a write that would pass its configured capacity', async () => {
    const small = new ChunkStore(join(dir, 'small'), 1000);
    await small.open();
    const data = randomBytes(1500);
    await expect(small.write('chunk-iiiiiiii', { sha256: sha256(data), size: data.length }, pieces(data))).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    });
    expect(await readdir(join(dir, 'small', 'tmp'))).toEqual([]);
  });

  it('counts writes in progress against the capacity, so parallel writes cannot pass it together', async () => {
    const small = new ChunkStore(join(dir, 'parallel'), 1000);
    await small.open();
    const data = randomBytes(600);
    const results = await Promise.allSettled(
      ['chunk-pppppppp', 'chunk-qqqqqqqq'].map((id) =>
        small.write(id, { sha256: sha256(data), size: data.length }, pieces(data)),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(small.usage().usedBytes).toBe(600);
  });
});
