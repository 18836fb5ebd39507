import { pack } from 'tar-stream';

/** One file of an archive: its bytes come as they are read, and must add up to `size`. */
export interface ArchiveEntry {
  readonly name: string;
  readonly size: number;
  readonly mtime: Date;
  readonly body: AsyncIterable<Buffer> | Buffer;
}

type EntrySink = ReturnType<ReturnType<typeof pack>['entry']>;

/** Until the sink takes more, or is closed (it failed, or the archive was destroyed under it). */
function drained(sink: EntrySink): Promise<void> {
  if (sink.destroying) return Promise.reject(new Error('the archive was closed'));
  return new Promise((resolve, reject) => {
    const done = () => {
      sink.off('drain', done);
      sink.off('close', closed);
      resolve();
    };
    const closed = () => {
      sink.off('drain', done);
      reject(new Error('the archive was closed'));
    };
    sink.on('drain', done);
    sink.on('close', closed);
  });
}

/**
 * Settles once the entry is in the archive or failed, and never before its body was read to its
 * end or returned: a stopped archive leaves no read of a file open (a download holds memory).
 */
async function writeEntry(archive: ReturnType<typeof pack>, entry: ArchiveEntry): Promise<void> {
  const header = { name: entry.name, size: entry.size, mtime: entry.mtime, mode: 0o644, type: 'file' as const };
  const body = entry.body;
  let sink: EntrySink | undefined;
  // The entry's errors (a size mismatch, a failed body) come to its callback; listened to as well, they are not unhandled.
  const written = new Promise<void>((resolve, reject) => {
    const finished = (error?: Error | null) => (error ? reject(error) : resolve());
    sink = Buffer.isBuffer(body) ? archive.entry(header, body, finished) : archive.entry(header, finished);
    sink.on('error', reject);
  });
  if (Buffer.isBuffer(body)) return written;
  if (!sink) {
    // The archive was gone before the entry began: the body is closed unread.
    await body[Symbol.asyncIterator]().return?.(undefined);
    return written;
  }
  written.catch(() => undefined); // awaited below, once the body is done with
  try {
    for await (const piece of body) {
      if (sink.destroying) break;
      if (!sink.write(piece)) await drained(sink);
    }
    sink.end(undefined); // streamx: the argument is a last piece, none here
  } catch (error) {
    sink.destroy(error as Error);
  }
  return written;
}

/**
 * A tar archive (POSIX ustar, pax headers for long or non-ASCII names) of the entries, streamed:
 * an entry is read only as the archive is consumed, so memory holds a piece at a time whatever
 * the sizes. A failing entry fails the archive; a consumer that stops stops the reading.
 */
export async function* tarArchive(entries: AsyncIterable<ArchiveEntry> | Iterable<ArchiveEntry>): AsyncGenerator<Buffer> {
  const archive = pack();
  const producing = (async () => {
    for await (const entry of entries) await writeEntry(archive, entry);
    archive.finalize();
  })().catch((error: unknown) => {
    archive.destroy(error as Error);
  });
  try {
    for await (const piece of archive) yield piece as Buffer;
  } finally {
    archive.destroy();
    await producing;
  }
}
