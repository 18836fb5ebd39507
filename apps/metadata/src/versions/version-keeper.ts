import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { MetadataConfig } from '@cloudstore/config';
import { FileNotFoundError } from '@cloudstore/contracts';
import type { EntityManager } from 'typeorm';
import { ChunksRepository } from '../files/chunks.repository';
import type { FileEntity } from '../files/file.entity';
import { METADATA_CONFIG } from '../metadata.tokens';
import { QuotasRepository } from '../quotas/quotas.repository';
import { FileVersionsRepository } from './file-versions.repository';

/** What an upload gives a file: its content, as the file's row holds it. */
export type FileContent = Pick<
  FileEntity,
  | 'filename'
  | 'sizeBytes'
  | 'sha256'
  | 'contentType'
  | 'chunkCount'
  | 'chunkSize'
  | 'chunkOverhead'
  | 'wrappedDataKey'
  | 'masterKeyId'
  | 'wrappedByUserKey'
>;

/**
 * Keeps a file's content as a version when an upload gives the file new content, and drops the
 * oldest versions beyond VERSIONS_KEPT (0 keeps none), refunding their bytes.
 */
@Injectable()
export class VersionKeeper {
  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    private readonly versions: FileVersionsRepository,
    private readonly chunks: ChunksRepository,
    private readonly quotas: QuotasRepository,
  ) {}

  /**
   * In an upload's commit: the file's current content becomes a version and `content` the file's;
   * versions past VERSIONS_KEPT are dropped (refunded; their chunks left for collection). The
   * caller attaches the upload's chunks to the file and charges its bytes, unless the content is
   * the file's already (`unchanged`: a retried upload whose answer was lost makes no version).
   */
  async commitNewVersion(
    manager: EntityManager,
    ownerId: string,
    fileRowId: string,
    content: FileContent,
  ): Promise<{ file: FileEntity; unchanged: boolean }> {
    const current = await this.versions.lockLive(manager, fileRowId);
    if (!current) throw new FileNotFoundError('The file was deleted while its new version was uploaded');
    if (current.sha256 === content.sha256 && current.sizeBytes === content.sizeBytes && current.filename === content.filename)
      return { file: current, unchanged: true };
    await this.versions.archiveCurrent(manager, current.id, randomUUID());
    const file = await this.versions.replaceContent(manager, current, content);
    const dropped = await this.versions.dropBeyond(manager, current.id, this.config.VERSIONS_KEPT);
    if (dropped.rowIds.length > 0) {
      await this.chunks.detachFromFiles(manager, dropped.rowIds);
      await this.quotas.refund(ownerId, dropped.bytes, manager, 0);
    }
    return { file, unchanged: false };
  }
}
