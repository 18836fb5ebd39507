import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { InvalidArgumentError } from '@cloudstore/contracts';
import { BodyChecksumError, ChunkAlignedBody, type ChunkAlignedBodyOptions } from './chunk-aligned-body';

function piecesOf(data: Buffer, size: number): AsyncIterable<Uint8Array> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) pieces.push(data.subarray(at, at + size));
  return Readable.from(pieces);
}

async function given(body: ChunkAlignedBody): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const piece of body.pieces()) out.push(Buffer.from(piece));
  return out;
}

const options = (o: Partial<ChunkAlignedBodyOptions>): ChunkAlignedBodyOptions => ({
  start: 0,
  tail: Buffer.alloc(0),
  chunkSize: 10,
  size: 100,
  ...o,
});

describe('ChunkAlignedBody', () => {
  it('gives on whole chunks only and holds back the bytes past the last one', async () => {
    const data = randomBytes(37);
    const body = new ChunkAlignedBody(piecesOf(data, 7), options({}));
    const out = Buffer.concat(await given(body));
    expect(out).toEqual(data.subarray(0, 30));
    expect(body.alignedEnd).toBe(30);
    expect(body.remainder).toEqual(data.subarray(30));
  });

  it('puts the tail first, counting from where the upload stands', async () => {
    const tail = randomBytes(4);
    const data = randomBytes(12);
    const body = new ChunkAlignedBody(piecesOf(data, 5), options({ start: 20, tail }));
    expect(Buffer.concat(await given(body))).toEqual(Buffer.concat([tail, data.subarray(0, 6)]));
    expect(body.alignedEnd).toBe(30);
    expect(body.remainder).toEqual(data.subarray(6));
  });

  it('gives everything when the body ends the upload, the last chunk only after the checksum held', async () => {
    const data = randomBytes(25);
    const checksum = createHash('sha256').update(data).digest();
    const body = new ChunkAlignedBody(piecesOf(data, 3), options({ size: 25, checksum }));
    expect(Buffer.concat(await given(body))).toEqual(data);
    expect(body.alignedEnd).toBe(25);
    expect(body.remainder.length).toBe(0);

    const wrong = new ChunkAlignedBody(piecesOf(data, 3), options({ size: 25, checksum: Buffer.alloc(32) }));
    const seen: Buffer[] = [];
    await expect(
      (async () => {
        for await (const piece of wrong.pieces()) seen.push(Buffer.from(piece));
      })(),
    ).rejects.toBeInstanceOf(BodyChecksumError);
    // The chunk that would end the upload was never given on.
    expect(Buffer.concat(seen)).toEqual(data.subarray(0, 20));
  });

  it('refuses bytes past the upload’s size before giving them on', async () => {
    const body = new ChunkAlignedBody(piecesOf(randomBytes(30), 30), options({ size: 25 }));
    await expect(given(body)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('finishes an empty upload with nothing to give', async () => {
    const body = new ChunkAlignedBody(piecesOf(Buffer.alloc(0), 1), options({ size: 0 }));
    expect(await given(body)).toEqual([]);
    expect(body.alignedEnd).toBe(0);
  });
});
