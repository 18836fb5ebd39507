import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileOnce } from './durable-files';

describe(createFileOnce.name, () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cloudstore-durable-'));
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('creates the file with its mode, and leaves no temporary file behind', async () => {
    const path = join(dir, 'key');
    expect(await createFileOnce(path, 'secret\n')).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('secret\n');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['key']);
  });

  it('lets exactly one of many racing callers create it, whole', async () => {
    const path = join(dir, 'key');
    const contents = Array.from({ length: 10 }, (_, i) => `content ${i}`.repeat(1000));
    const created = await Promise.all(contents.map((content) => createFileOnce(path, content)));
    expect(created.filter(Boolean)).toHaveLength(1);
    expect(await readFile(path, 'utf8')).toBe(contents[created.indexOf(true)]);
    expect(await readdir(dir)).toEqual(['key']);
  });
});
