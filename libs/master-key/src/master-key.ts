import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '@cloudstore/config';
import { createFileOnce } from '@cloudstore/durable-files';
import type { Logger } from '@cloudstore/observability';

export const MASTER_KEY_BYTES = 32;
export const MASTER_KEY_FILE = 'master.key';

/** The cluster's master key and its fingerprint (recorded with each file and each sealed secret). */
export interface MasterKey {
  readonly key: Buffer;
  readonly id: string;
}

export function masterKey(key: Buffer): MasterKey {
  return { key, id: createHash('sha256').update('cloudstore master key id\0').update(key).digest('hex').slice(0, 16) };
}

/**
 * MASTER_KEY when it is set; otherwise the key in DATA_DIR/master.key, generated there the first
 * time (base64, mode 0600, durably, and created once so that the gateways and auth services
 * starting together agree on one key). A file that does not hold a key is a ConfigError: starting
 * with a new key would make every stored file and sealed secret unreadable.
 */
export async function loadMasterKey(config: { MASTER_KEY: Buffer | null; DATA_DIR: string }, logger: Logger): Promise<MasterKey> {
  if (config.MASTER_KEY) return masterKey(config.MASTER_KEY);
  const path = resolve(config.DATA_DIR, MASTER_KEY_FILE);
  const existing = await readKeyFile(path);
  if (existing) {
    const mode = (await stat(path)).mode;
    if ((mode & 0o077) !== 0) logger.warn({ path }, 'the master key file is readable by other users: chmod 600 it');
    return masterKey(existing);
  }
  await mkdir(config.DATA_DIR, { recursive: true, mode: 0o700 });
  try {
    if (await createFileOnce(path, `${randomBytes(MASTER_KEY_BYTES).toString('base64')}\n`))
      logger.warn(
        { path },
        'generated the master key: back it up (or set MASTER_KEY), no stored file or sealed secret can be read without it',
      );
  } catch (error) {
    throw new ConfigError(`cannot create the master key ${path} (${(error as Error).message}); set MASTER_KEY instead`);
  }
  const key = await readKeyFile(path);
  if (!key) throw new ConfigError(`${path} vanished while it was created`);
  return masterKey(key);
}

async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read the master key ${path}: ${(error as Error).message}`);
  }
  const key = Buffer.from(text, 'base64');
  if (key.length !== MASTER_KEY_BYTES || key.toString('base64') !== text)
    throw new ConfigError(`${path} must hold base64 of exactly ${MASTER_KEY_BYTES} bytes (the master key)`);
  return key;
}
