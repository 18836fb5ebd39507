import { basename } from 'node:path';
import type { Command } from 'commander';
import { type CloudStorageClient, CloudStorageError, type FileInfo } from '@cloudstore/client';
import { type CliContext, CliError } from '../cli-context';
import { bar, humanBytes, humanTime, table } from '../format';
import { TransferProgress } from '../progress';
import { UploadResumes } from '../upload-resumes';

/** Runs `work` with a signed-in client, closed after. */
export async function withClient<T>(cli: CliContext, work: (client: CloudStorageClient) => Promise<T>): Promise<T> {
  const client = await cli.signedIn();
  try {
    return await work(client);
  } finally {
    client.close();
  }
}

function fileRows(files: FileInfo[], extra: (file: FileInfo) => string[] = () => []): string[][] {
  return files.map((f) => [f.fileId, f.filename, humanBytes(f.fileSize), humanTime(f.uploadedAt), ...extra(f)]);
}

/** Aborted on Ctrl-C, so that a transfer stops cleanly (an upload stays resumable). */
function interruptible(): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const stop = () => controller.abort(new CliError('interrupted', 130));
  process.once('SIGINT', stop);
  return { signal: controller.signal, done: () => process.removeListener('SIGINT', stop) };
}

export function fileCommands(program: Command, context: () => CliContext): void {
  program
    .command('ls')
    .description('list your files, newest first')
    .option('--filter <text>', 'only names containing this')
    .option('--limit <n>', 'at most this many', (v) => Number(v), 50)
    .option('--offset <n>', 'skip this many', (v) => Number(v), 0)
    .action(async (options: { filter?: string; limit: number; offset: number }) => {
      const cli = context();
      const listed = await withClient(cli, (client) =>
        client.listFiles({ limit: options.limit, offset: options.offset, filter: options.filter ?? '' }),
      );
      cli.print(listed, () =>
        listed.files.length === 0
          ? 'No files'
          : `${table(
              ['ID', 'NAME', 'SIZE', 'UPLOADED', 'VERSION'],
              fileRows(listed.files, (f) => [String(f.version)]),
              new Set([2, 4]),
            )}\n${listed.files.length} of ${listed.totalCount}`,
      );
    });

  program
    .command('put')
    .description('upload files, with progress; an interrupted upload goes on where it stood when the same put is run again')
    .argument('<files...>', 'the files to upload')
    .option('--name <filename>', 'the name to store a single file under')
    .option('--file-id <id>', 'store it as a new version of this file of yours')
    .action(async (files: string[], options: { name?: string; fileId?: string }) => {
      const cli = context();
      if (options.name && files.length > 1) throw new CliError('--name names a single file', 2);
      const resumes = new UploadResumes();
      const server = await cli.server();
      const results = await withClient(cli, async (client) => {
        const uploaded = [];
        for (const file of files) {
          const key = await resumes.key(server, file).catch(() => {
            throw new CliError(`cannot read ${file}`);
          });
          const earlier = await resumes.get(key);
          const progress = new TransferProgress(`put ${basename(file)}`, undefined, cli.json);
          const { signal, done } = interruptible();
          const upload = (uploadId?: string) =>
            client.uploadFile(file, {
              ...(options.name ? { filename: options.name } : {}),
              ...(options.fileId ? { fileId: options.fileId } : {}),
              ...(uploadId ? { uploadId } : {}),
              onUploadCreated: (id) => cli.track(resumes.set(key, id)),
              onProgress: (sent, total) => progress.update(sent, total),
              signal,
            });
          try {
            // An upload left from before goes on, unless it expired meanwhile.
            const result = await upload(earlier).catch((error: unknown) => {
              if (earlier && error instanceof CloudStorageError && error.code === 'FILE_NOT_FOUND') return upload();
              throw error;
            });
            await resumes.set(key, undefined);
            uploaded.push({ file, ...result });
          } catch (error) {
            if (signal.aborted) throw new CliError(`interrupted: run the same put again to go on with ${file}`, 130);
            // One that can never finish is not kept to go on with.
            if (error instanceof CloudStorageError && !error.retriable) await resumes.set(key, undefined);
            throw error;
          } finally {
            progress.stop();
            done();
          }
        }
        return uploaded;
      });
      cli.print(results, () =>
        results.map((r) => `${r.file} → ${r.fileId} (${humanBytes(r.fileSize)}, sha256 ${r.checksum})`).join('\n'),
      );
    });

  program
    .command('get')
    .description('download a file, verified against its SHA-256, with progress')
    .argument('<id>', 'the file id')
    .option('-o, --output <path>', 'where to write it (a folder keeps its name; default: its name, here)', '.')
    .option('--version-id <versionId>', 'an earlier version')
    .option('-f, --force', 'replace a file already at the output path')
    .action(async (id: string, options: { output: string; versionId?: string; force?: boolean }) => {
      const cli = context();
      const progress = new TransferProgress(`get ${id.slice(0, 8)}`, undefined, cli.json);
      const { signal, done } = interruptible();
      try {
        const result = await withClient(cli, (client) =>
          client.downloadFile(id, options.output, {
            ...(options.versionId ? { versionId: options.versionId } : {}),
            overwrite: options.force === true,
            onProgress: (received, total) => progress.update(received, total),
            signal,
          }),
        );
        progress.stop();
        cli.print(result, () => `${result.path} (${humanBytes(result.size)}, sha256 ${result.sha256} verified)`);
      } finally {
        progress.stop();
        done();
      }
    });

  program
    .command('rm')
    .description('move files to the trash (restore them with `cloudstore restore`)')
    .argument('<ids...>', 'the file ids')
    .action(async (ids: string[]) => {
      const cli = context();
      const freed = await withClient(cli, async (client) => {
        const results = [];
        for (const id of ids) results.push({ file_id: id, freed_bytes: await client.deleteFile(id) });
        return results;
      });
      cli.print(freed, () => freed.map((f) => `${f.file_id} moved to the trash (${humanBytes(f.freed_bytes)} freed)`).join('\n'));
    });

  program
    .command('trash')
    .description('list the files in your trash, and when each is purged')
    .action(async () => {
      const cli = context();
      const listed = await withClient(cli, (client) => client.listTrash({ limit: 1000 }));
      cli.print(listed, () =>
        listed.files.length === 0
          ? 'The trash is empty'
          : table(
              ['ID', 'NAME', 'SIZE', 'UPLOADED', 'DELETED', 'PURGED'],
              fileRows(listed.files, (f) => [humanTime(f.deletedAt), humanTime(f.purgeAt)]),
              new Set([2]),
            ),
      );
    });

  program
    .command('restore')
    .description('bring a file back from the trash')
    .argument('<id>', 'the file id')
    .action(async (id: string) => {
      const cli = context();
      const file = await withClient(cli, (client) => client.restoreFile(id));
      cli.print(file, () => `${file.filename} (${file.fileId}) restored`);
    });

  program
    .command('purge')
    .description('delete a file in the trash for good')
    .argument('<id>', 'the file id')
    .action(async (id: string) => {
      const cli = context();
      const purged = await withClient(cli, (client) => client.purgeFile(id));
      cli.print({ file_id: id, purged_bytes: purged }, () => `${id} purged (${humanBytes(purged)})`);
    });

  program
    .command('quota')
    .description('how much of your quota is used')
    .action(async () => {
      const cli = context();
      const quota = await withClient(cli, (client) => client.getQuotaStatus());
      cli.print(quota, () =>
        quota.unlimited
          ? `${humanBytes(quota.usedBytes)} used (no quota; ${humanBytes(quota.availableBytes)} free in the cluster)`
          : `${bar(quota.usedBytes / Math.max(1, quota.totalQuotaBytes))} ${humanBytes(quota.usedBytes)} of ${humanBytes(quota.totalQuotaBytes)} used (${quota.usagePercentage.toFixed(1)}%), ${humanBytes(quota.availableBytes)} free`,
      );
    });
}
