import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type commonApi, FileNotFoundError, type filesApi, InvalidArgumentError } from '@cloudstore/contracts';
import { toUnixSeconds } from '@cloudstore/database';
import type { DataSource } from 'typeorm';
import { fileAuditEvent } from '../audit/audit-entry';
import { AuditLogRepository } from '../audit/audit-log.repository';
import type { FileEntity } from '../files/file.entity';
import { fileRecord } from '../files/file-record';
import { FilesService } from '../files/files.service';
import { isUuid } from '../uuid';
import { DownloadLinksRepository, type LinkSummary, type OpenLink } from './download-links.repository';

/** The SHA-256 of a link's secret: 32 bytes. */
const TOKEN_DIGEST_BYTES = 32;

function downloadLink(link: LinkSummary, file: Pick<FileEntity, 'publicId'>): filesApi.DownloadLink {
  return {
    linkId: link.id,
    fileId: file.publicId,
    expiresAt: toUnixSeconds(link.expiresAt),
    createdAt: toUnixSeconds(link.createdAt),
    hasPassword: link.hasPassword,
  };
}

/**
 * Download links: the owner of a live file makes one (the gateway draws the secret and hashes
 * it and the password; this service keeps the hashes), lists and revokes them. Anyone with the
 * URL downloads the file until the link expires or is revoked, or the file leaves the live files;
 * such a download is audited as the owner's file's, with `access` `link` and the link's id.
 */
@Injectable()
export class DownloadLinksService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly files: FilesService,
    private readonly links: DownloadLinksRepository,
    private readonly auditLog: AuditLogRepository,
  ) {}

  async create(owner: filesApi.Owner, request: filesApi.CreateDownloadLinkRequest): Promise<filesApi.DownloadLink> {
    if (request.tokenSha256.length !== TOKEN_DIGEST_BYTES) throw new InvalidArgumentError('The link secret is missing');
    const expiresAt = new Date(request.expiresAt * 1000);
    if (!(request.expiresAt * 1000 > Date.now())) throw new InvalidArgumentError('The link must expire in the future');
    const file = await this.files.requireOwned(owner.userId, request.fileId);
    const link = await this.dataSource.transaction(async (manager) => {
      const created = await this.links.insert(manager, {
        id: randomUUID(),
        fileId: file.id,
        tokenSha256: Buffer.from(request.tokenSha256),
        passwordHash: request.passwordHash || null,
        expiresAt,
      });
      await this.auditLog.append(
        [
          this.auditEvent('file.link_create', owner, file, request.origin, {
            linkId: created.id,
            expiresAt: request.expiresAt,
            hasPassword: created.hasPassword,
          }),
        ],
        manager,
      );
      return created;
    });
    return downloadLink(link, file);
  }

  /** Also of a file in the trash (its links open nothing there, and can be revoked before a restore). */
  async list(owner: filesApi.Owner, fileId: string): Promise<filesApi.ListDownloadLinksResponse> {
    const file = await this.files.requireOwnedOrTrashed(owner.userId, fileId);
    return { links: (await this.links.ofFile(file.id)).map((link) => downloadLink(link, file)) };
  }

  /** At once: the next request with the link finds nothing. FILE_NOT_FOUND when the file has no such link. */
  async revoke(owner: filesApi.Owner, request: filesApi.RevokeDownloadLinkRequest): Promise<void> {
    const file = await this.files.requireOwnedOrTrashed(owner.userId, request.fileId);
    if (!isUuid(request.linkId)) throw new FileNotFoundError('No such link');
    const revoked = await this.dataSource.transaction(async (manager) => {
      if (!(await this.links.delete(manager, file.id, request.linkId))) return false;
      await this.auditLog.append(
        [this.auditEvent('file.link_revoke', owner, file, request.origin, { linkId: request.linkId })],
        manager,
      );
      return true;
    });
    if (!revoked) throw new FileNotFoundError('No such link');
  }

  /** The link's file and password hash, for the gateway to check the password before it plans a download. */
  async resolve(tokenSha256: Uint8Array): Promise<filesApi.ResolveDownloadLinkResponse> {
    const link = await this.open(tokenSha256);
    return { linkId: link.id, file: fileRecord(link.file), passwordHash: link.passwordHash ?? '' };
  }

  async plan(request: filesApi.GetLinkDownloadPlanRequest): Promise<filesApi.DownloadPlan> {
    const link = await this.open(request.tokenSha256);
    return this.files.planOf(link.file, request, { userId: link.file.ownerId, details: { access: 'link', linkId: link.id } });
  }

  async locateChunk(request: filesApi.LocateLinkChunkRequest): Promise<filesApi.PlannedChunk> {
    return this.files.chunkOf((await this.open(request.tokenSha256)).file, request.index);
  }

  /** Deletes the links expired for a while (the purge sweep calls it); how many. */
  deleteExpired(): Promise<number> {
    return this.links.deleteExpired();
  }

  /** An unknown, expired or revoked link, and one whose file is in the trash, are all FILE_NOT_FOUND. */
  private async open(tokenSha256: Uint8Array): Promise<OpenLink> {
    const link = tokenSha256.length === TOKEN_DIGEST_BYTES ? await this.links.findOpen(Buffer.from(tokenSha256)) : undefined;
    if (!link) throw new FileNotFoundError('The link does not exist or has expired');
    return link;
  }

  private auditEvent(
    operation: string,
    owner: filesApi.Owner,
    file: FileEntity,
    origin: commonApi.RequestOrigin | undefined,
    details: Record<string, string | number | boolean>,
  ) {
    return fileAuditEvent({
      operation,
      status: 'success',
      userId: owner.userId,
      username: owner.username,
      fileId: file.publicId,
      filename: file.filename,
      origin,
      details,
    });
  }
}
