import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { configDir } from './credentials';

/**
 * The resumable uploads `put` has left unfinished, by server, file (absolute path), size and
 * modification time, so that the same `put` after an interruption goes on where it stood.
 */
export class UploadResumes {
  private readonly path = join(configDir(), 'uploads.json');

  async key(server: string, file: string): Promise<string> {
    const info = await stat(file);
    return `${server}|${resolve(file)}|${info.size}|${Math.floor(info.mtimeMs)}`;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.all())[key];
  }

  async set(key: string, uploadId: string | undefined): Promise<void> {
    const all = await this.all();
    if (uploadId) all[key] = uploadId;
    else delete all[key];
    await mkdir(configDir(), { recursive: true, mode: 0o700 });
    await writeFile(this.path, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
  }

  private async all(): Promise<Record<string, string>> {
    const text = await readFile(this.path, 'utf8').catch(() => '{}');
    try {
      return JSON.parse(text) as Record<string, string>;
    } catch {
      return {};
    }
  }
}
