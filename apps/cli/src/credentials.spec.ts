import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configDir, loadCredentials, removeCredentials, saveCredentials } from './credentials';

describe('credentials on disk', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'cli-credentials-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('lives under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configDir({ XDG_CONFIG_HOME: '/x' })).toBe('/x/cloudstore');
    expect(configDir({})).toMatch(/\.config\/cloudstore$/);
  });

  it('is written readable by its owner only, even over a file that was not', async () => {
    const path = join(dir, 'cloudstore', 'credentials.json');
    expect(await loadCredentials(path)).toBeUndefined();
    const credentials = {
      server: 'h:1',
      restUrl: 'http://h:2',
      username: 'u',
      tokens: { accessToken: 'a', expiresAt: 1, refreshToken: 'r', refreshExpiresAt: 2 },
    };
    await saveCredentials(credentials, path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'cloudstore'))).mode & 0o777).toBe(0o700);
    await writeFile(path, '{}', { mode: 0o644 });
    await saveCredentials(credentials, path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await loadCredentials(path)).toEqual(credentials);
    await removeCredentials(path);
    expect(await loadCredentials(path)).toBeUndefined();
  });
});
