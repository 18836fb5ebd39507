import { Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import { type auditApi, type authApi, type commonApi, DomainError, type filesApi, MAX_PAGE_SIZE } from '@cloudstore/contracts';
import { userView } from '../admin/admin-users.service';
import { auditEventView } from '../audit/audit.service';
import { sessionView } from '../auth/accounts.service';
import { DownloadService } from '../files/download.service';
import { fileView, FilesService, quotaView } from '../files/files.service';
import { InternalClients } from '../internal-clients/internal-clients';
import { type ArchiveEntry, tarArchive } from './tar-archive';

/** The archive's JSON document, at its root; the files are under FILES_FOLDER. */
export const EXPORT_DOCUMENT = 'cloudstore-export.json';
export const FILES_FOLDER = 'files';
export const EXPORT_FORMAT = { format: 'cloudstore-export', version: 1 } as const;

export interface UserExport {
  /** What a browser saves the archive as. */
  readonly filename: string;
  readonly archive: AsyncGenerator<Buffer>;
}

/** Every page of a listing, from the first. */
async function allPages<T>(page: (limit: number, cursor: string, offset: number) => Promise<{ items: T[]; next: string }>) {
  const all: T[] = [];
  for (let cursor = '', offset = 0; ;) {
    const { items, next } = await page(MAX_PAGE_SIZE, cursor, offset);
    all.push(...items);
    offset += items.length;
    if (items.length === 0 || (next === '' && items.length < MAX_PAGE_SIZE)) return all;
    cursor = next;
  }
}

/**
 * Where each file goes in the archive: under its name, and where two files share a name (names
 * are not unique), the later ones in a folder named by their file id.
 */
export function archivePaths(files: readonly filesApi.FileRecord[]): Map<string, string> {
  const taken = new Set<string>();
  const paths = new Map<string, string>();
  for (const file of files) {
    const plain = `${FILES_FOLDER}/${file.filename}`;
    const path = taken.has(plain) ? `${FILES_FOLDER}/${file.fileId}/${file.filename}` : plain;
    taken.add(path);
    paths.set(file.fileId, path);
  }
  return paths;
}

/**
 * GDPR right of access: everything cloudstore holds of the caller, as one streamed tar archive.
 * Every live file under `files/` with its bytes as stored (verified as downloads are), then
 * EXPORT_DOCUMENT: the account, quota, sign-ins, every file's metadata and where it is in the
 * archive, the trash, shares and the caller's audit events, to the export itself. The account and
 * the listings are read before the first byte, so a failure there is an error answer; a file
 * that cannot be read later fails the archive (never a silently missing file). A file deleted
 * meanwhile is left out, and the document says so.
 */
@Injectable()
export class UserExportService {
  constructor(
    private readonly clients: InternalClients,
    private readonly files: FilesService,
    private readonly downloads: DownloadService,
  ) {}

  async open(caller: Caller, origin: commonApi.RequestOrigin): Promise<UserExport> {
    const account = await this.clients.auth.call('exportAccount', { caller, origin });
    const live = await allPages(async (limit, after) => {
      const page = await this.files.list(caller, { limit, offset: 0, filter: '', after });
      return { items: page.files, next: page.nextCursor };
    });
    const date = new Date().toISOString().slice(0, 10);
    return {
      filename: `cloudstore-export-${account.user?.username ?? caller.username}-${date}.tar`,
      archive: tarArchive(this.entries(caller, origin, account, live)),
    };
  }

  private async *entries(
    caller: Caller,
    origin: commonApi.RequestOrigin,
    account: authApi.AccountExport,
    live: filesApi.FileRecord[],
  ): AsyncGenerator<ArchiveEntry> {
    const paths = archivePaths(live);
    const missing = new Set<string>();
    for (const file of live) {
      const download = await this.openFile(caller, file, origin);
      if (!download) {
        missing.add(file.fileId);
        continue;
      }
      yield { name: paths.get(file.fileId) as string, size: file.size, mtime: new Date(file.uploadedAt * 1000), body: download };
    }
    const document = await this.document(caller, account, live, paths, missing);
    yield { name: EXPORT_DOCUMENT, size: document.length, mtime: new Date(), body: document };
  }

  /** The file's verified bytes; undefined when it was deleted since the listing. */
  private async openFile(
    caller: Caller,
    file: filesApi.FileRecord,
    origin: commonApi.RequestOrigin,
  ): Promise<AsyncGenerator<Buffer> | undefined> {
    try {
      return (await this.downloads.open(caller, file.fileId, undefined, origin)).body;
    } catch (error) {
      if (error instanceof DomainError && error.code === 'FILE_NOT_FOUND') return undefined;
      throw error;
    }
  }

  private async document(
    caller: Caller,
    account: authApi.AccountExport,
    live: filesApi.FileRecord[],
    paths: Map<string, string>,
    missing: Set<string>,
  ): Promise<Buffer> {
    const [quota, trash, events] = await Promise.all([
      this.files.quota(caller),
      allPages(async (limit, _cursor, offset) => ({
        items: (await this.files.listTrash(caller, limit, offset)).files,
        next: '',
      })),
      allPages<auditApi.AuditEvent>(async (limit, cursor) => {
        const page = await this.clients.auditLog.call('listOwnEvents', {
          limit,
          cursor,
          operation: '',
          outcome: '',
          from: 0,
          to: 0,
          userId: '',
        });
        return { items: page.events, next: page.nextCursor };
      }),
    ]);
    const document = {
      ...EXPORT_FORMAT,
      exported_at: Math.floor(Date.now() / 1000),
      account: account.user ? userView(account.user) : { user_id: caller.userId, username: caller.username },
      quota: quotaView(quota),
      sessions: account.sessions.map(sessionView),
      files: live.map((file) => ({
        ...fileView(file),
        ...(missing.has(file.fileId)
          ? { archive_path: null, deleted_during_export: true }
          : { archive_path: paths.get(file.fileId) }),
      })),
      trash: trash.map((file) => fileView(file)),
      // Files the caller shared and files shared with the caller: none until sharing exists.
      shares: { granted: [], received: [] },
      audit_events: events.map(auditEventView),
    };
    return Buffer.from(`${JSON.stringify(document, null, 2)}\n`);
  }
}
