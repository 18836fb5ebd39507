import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Tokens } from '@cloudstore/client';

/** What a sign-in leaves on disk: the server it was made on, who, and the session's tokens. */
export interface Credentials {
  readonly server: string;
  readonly restUrl: string;
  readonly username: string;
  readonly tokens: Tokens;
}

/** `$XDG_CONFIG_HOME/cloudstore` (default `~/.config/cloudstore`): the CLI's files. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['XDG_CONFIG_HOME'] || join(homedir(), '.config'), 'cloudstore');
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'credentials.json');
}

export async function loadCredentials(path = credentialsPath()): Promise<Credentials | undefined> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  return text === undefined ? undefined : (JSON.parse(text) as Credentials);
}

/** Written readable by the user only (0600), its folder 0700: the tokens are the session. */
export async function saveCredentials(credentials: Credentials, path = credentialsPath()): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // Written whole beside it, then renamed over it: never readable by others, never half written.
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'w' });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

export async function removeCredentials(path = credentialsPath()): Promise<void> {
  await rm(path, { force: true });
}
