import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@cloudstore/config';
import { createLogger } from '@cloudstore/observability';
import { loadMasterKey, MASTER_KEY_FILE, masterKey } from './master-key';

describe(loadMasterKey.name, () => {
  const logger = createLogger('gateway-test', 'silent');
  let dataDir: string;

  beforeEach(async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), 'cloudstore-key-')), 'data');
  });

  afterEach(async () => {
    await rm(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('uses MASTER_KEY when it is set, and writes no file', async () => {
    const key = randomBytes(32);
    expect(await loadMasterKey({ MASTER_KEY: key, DATA_DIR: dataDir }, logger)).toEqual(masterKey(key));
    await expect(stat(dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('generates DATA_DIR/master.key once, mode 0600, and reads the same key afterwards', async () => {
    const first = await loadMasterKey({ MASTER_KEY: null, DATA_DIR: dataDir }, logger);
    const path = join(dataDir, MASTER_KEY_FILE);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(path, 'utf8')).trim(), 'base64').equals(first.key)).toBe(true);
    expect(await loadMasterKey({ MASTER_KEY: null, DATA_DIR: dataDir }, logger)).toEqual(first);
    expect(await readdir(dataDir)).toEqual([MASTER_KEY_FILE]);
  });

  it('gives gateways that start at once the same key', async () => {
    const keys = await Promise.all(
      Array.from({ length: 8 }, () => loadMasterKey({ MASTER_KEY: null, DATA_DIR: dataDir }, logger)),
    );
    expect(new Set(keys.map((k) => k.id)).size).toBe(1);
  });

  it('refuses a key file that does not hold a key, rather than starting with a new one', async () => {
    await loadMasterKey({ MASTER_KEY: null, DATA_DIR: dataDir }, logger);
    const path = join(dataDir, MASTER_KEY_FILE);
    await chmod(path, 0o600);
    await writeFile(path, 'not a key\n');
    await expect(loadMasterKey({ MASTER_KEY: null, DATA_DIR: dataDir }, logger)).rejects.toThrow(ConfigError);
    await expect(loadMasterKey({ MASTER_KEY: null, DATA_DIR: dataDir }, logger)).rejects.toThrow(
      `${path} must hold base64 of exactly 32 bytes (the master key)`,
    );
  });
});
