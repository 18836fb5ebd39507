import { Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import { type auditApi, type authApi, type commonApi, DomainError, type filesApi, MAX_PAGE_SIZE } from '@cloudstore/contracts';
import { userView } from '../admin/admin-users.service';
import { auditEventView } from '../audit/audit.service';
import { sessionView } from '../auth/accounts.service';
import { type Download, DownloadService } from '../files/download.service';
import { fileView, FilesService, quotaView, versionView } from '../files/files.service';
import { InternalClients } from '../internal-clients/internal-clients';
import { SharesService, sharedFileView, shareView } from '../shares/shares.service';
import { type ArchiveEntry, tarArchive } from './tar-archive';

/** The archive's JSON document, at its root; the files are under FILES_FOLDER. */
export const EXPORT_DOCUMENT = 'cloudstore-export.json';
export const FILES_FOLDER = 'files';
/** Earlier versions of the files, at `versions/<file_id>/<version>/<filename>`. */
export const VERSIONS_FOLDER = 'versions';
export const EXPORT_FORMAT = { format: 'cloudstore-export', version: 1 } as const;

export interface UserExport {
  /** What a browser saves the archive as. */
  readonly filename: string;
  readonly archive: AsyncGenerator<Buffer>;
}

/** Every page of a keyset listing, from the first: pages follow while `next` names a cursor. */
export async function everyPage<T>(page: (cursor: string) => Promise<{ items: T[]; next: string }>): Promise<T[]> {
  const all: T[] = [];
  for (let cursor = ''; ;) {
    const { items, next } = await page(cursor);
    all.push(...items);
    if (next === '') return all;
    cursor = next;
  }
}

/** Every page of an offset listing: pages follow while they are full. */
export async function everyOffsetPage<T>(page: (limit: number, offset: number) => Promise<T[]>): Promise<T[]> {
  const all: T[] = [];
  for (;;) {
    const items = await page(MAX_PAGE_SIZE, all.length);
    all.push(...items);
    if (items.length < MAX_PAGE_SIZE) return all;
  }
}

/**
 * Where each file goes in the archive: under its name, and where two files share a name (names
 * are not unique; nor, unpacked on macOS or Windows, are names that differ in case only), the
 * later ones in a folder named by their file id.
 */
export function archivePaths(files: readonly filesApi.FileRecord[]): Map<string, string> {
  const taken = new Set<string>();
  const paths = new Map<string, string>();
  for (const file of files) {
    const plain = `${FILES_FOLDER}/${file.filename}`;
    const path = taken.has(plain.toLowerCase()) ? `${FILES_FOLDER}/${file.fileId}/${file.filename}` : plain;
    taken.add(path.toLowerCase());
    paths.set(file.fileId, path);
  }
  return paths;
}

/** An earlier version of a file, opened for reading, and where it goes in the archive. */
interface EarlierVersion {
  readonly fileId: string;
  readonly version: filesApi.FileVersion;
  readonly download: Download;
  readonly path: string;
}

/** What the archive is made of, all of it read before its first byte. */
interface ExportContents {
  readonly account: authApi.AccountExport;
  readonly quota: filesApi.QuotaStatus;
  /** The live files, each opened for reading (its download planned and audited). */
  readonly files: Download[];
  /** Live files deleted between the listing and their opening. */
  readonly vanished: filesApi.FileRecord[];
  /** The earlier versions of the live files, each opened for reading. */
  readonly versions: EarlierVersion[];
  readonly trash: filesApi.FileRecord[];
  readonly granted: filesApi.FileShare[];
  readonly received: filesApi.FileShare[];
  readonly events: auditApi.AuditEvent[];
}

/**
 * GDPR right of access: everything cloudstore holds of the caller, as one streamed tar archive:
 * every live file under `files/` with its bytes as stored (verified as downloads are), then
 * the earlier versions of each under `versions/`, then EXPORT_DOCUMENT with the account, quota,
 * sign-ins, every file's metadata (with its versions) and where it is in the archive, the trash,
 * shares and the caller's audit events. Everything but the bytes is read,
 * and every file's download planned, before the first byte: a failure there is an error answer,
 * and the rest needs no live token (a long export outlives it, or a renewal that spends it). A
 * file that cannot be read later fails the archive (cut off, never a silently missing file).
 */
@Injectable()
export class UserExportService {
  constructor(
    private readonly clients: InternalClients,
    private readonly files: FilesService,
    private readonly downloads: DownloadService,
    private readonly shares: SharesService,
  ) {}

  async open(caller: Caller, origin: commonApi.RequestOrigin): Promise<UserExport> {
    const contents = await this.read(caller, origin);
    const date = new Date().toISOString().slice(0, 10);
    return {
      filename: `cloudstore-export-${contents.account.user?.username ?? caller.username}-${date}.tar`,
      archive: tarArchive(entries(caller, contents)),
    };
  }

  private async read(caller: Caller, origin: commonApi.RequestOrigin): Promise<ExportContents> {
    const account = await this.clients.auth.call('exportAccount', { caller, origin });
    const live = await everyPage(async (after) => {
      const page = await this.files.list(caller, { limit: MAX_PAGE_SIZE, offset: 0, filter: '', after });
      return { items: page.files, next: page.nextCursor };
    });
    const files: Download[] = [];
    const vanished: filesApi.FileRecord[] = [];
    const versions: EarlierVersion[] = [];
    for (const file of live) {
      const download = await this.openFile(caller, file, origin);
      if (download) files.push(download);
      else vanished.push(file);
      if (download && file.version > 1) versions.push(...(await this.openEarlierVersions(caller, file, origin)));
    }
    const [quota, trash, granted, received, events] = await Promise.all([
      this.files.quota(caller),
      everyOffsetPage(async (limit, offset) => (await this.files.listTrash(caller, limit, offset)).files),
      everyOffsetPage(async (limit, offset) => (await this.shares.granted(limit, offset)).shares),
      everyOffsetPage(async (limit, offset) => (await this.shares.sharedWithMe(limit, offset)).shares),
      everyPage<auditApi.AuditEvent>(async (cursor) => {
        const page = await this.clients.auditLog.call('listOwnEvents', {
          limit: MAX_PAGE_SIZE,
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
    return { account, quota, files, vanished, versions, trash, granted, received, events };
  }

  /** The file (or a version of it) opened for reading; undefined when it was deleted since the listing. */
  private async openFile(
    caller: Caller,
    file: filesApi.FileRecord,
    origin: commonApi.RequestOrigin,
    versionId = '',
  ): Promise<Download | undefined> {
    try {
      return await this.downloads.open(caller, file.fileId, undefined, origin, versionId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'FILE_NOT_FOUND') return undefined;
      throw error;
    }
  }

  /** The file's earlier versions still there, each opened for reading. */
  private async openEarlierVersions(
    caller: Caller,
    file: filesApi.FileRecord,
    origin: commonApi.RequestOrigin,
  ): Promise<EarlierVersion[]> {
    const opened: EarlierVersion[] = [];
    for (const version of (await this.files.versions(file.fileId)).filter((v) => !v.current)) {
      const download = await this.openFile(caller, file, origin, version.versionId);
      const path = `${VERSIONS_FOLDER}/${file.fileId}/${version.versionId}/${version.filename}`;
      if (download) opened.push({ fileId: file.fileId, version, download, path });
    }
    return opened;
  }
}

function* entries(caller: Caller, contents: ExportContents): Generator<ArchiveEntry> {
  const paths = archivePaths(contents.files.map((d) => d.file));
  for (const { file, body } of contents.files) {
    yield { name: paths.get(file.fileId) as string, size: file.size, mtime: new Date(file.uploadedAt * 1000), body };
  }
  for (const { version, download, path } of contents.versions) {
    yield { name: path, size: version.size, mtime: new Date(version.uploadedAt * 1000), body: download.body };
  }
  const document = exportDocument(caller, contents, paths);
  yield { name: EXPORT_DOCUMENT, size: document.length, mtime: new Date(), body: document };
}

function exportDocument(caller: Caller, contents: ExportContents, paths: Map<string, string>): Buffer {
  const { account, quota, files, vanished, versions, trash, granted, received, events } = contents;
  const document = {
    ...EXPORT_FORMAT,
    exported_at: Math.floor(Date.now() / 1000),
    account: account.user ? userView(account.user) : { user_id: caller.userId, username: caller.username },
    quota: quotaView(quota),
    sessions: account.sessions.map(sessionView),
    files: [
      ...files.map(({ file }) => ({
        ...fileView(file),
        archive_path: paths.get(file.fileId),
        earlier_versions: versions
          .filter((v) => v.fileId === file.fileId)
          .map(({ version, path }) => ({ ...versionView(version), archive_path: path })),
      })),
      ...vanished.map((file) => ({ ...fileView(file), archive_path: null, deleted_during_export: true })),
    ],
    trash: trash.map((file) => fileView(file)),
    // Files the caller shared (their bytes are under files/), and other users' files shared with
    // the caller (described only: their bytes are the owners' data).
    shares: { granted: granted.map(shareView), received: received.map(sharedFileView) },
    audit_events: events.map(auditEventView),
  };
  return Buffer.from(`${JSON.stringify(document, null, 2)}\n`);
}
