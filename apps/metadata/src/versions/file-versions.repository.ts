import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { FileEntity } from '../files/file.entity';

/** The columns of a file's content: what a version keeps, and what a new version replaces. */
const CONTENT_COLUMNS = [
  'filename',
  'size_bytes',
  'sha256',
  'content_type',
  'chunk_count',
  'chunk_size',
  'chunk_overhead',
  'wrapped_data_key',
  'master_key_id',
  'wrapped_by_user_key',
].map((c) => `"${c}"`);

/**
 * SQL of versions. A file's row keeps its id (shares and links point at it) and holds the current
 * content; each earlier content is a row of its own (`version_of` the file's row), holding the
 * chunks that content had. A new content moves the current one into a new version row, chunks
 * and all, in the transaction that commits it.
 */
@Injectable()
export class FileVersionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The live file's row, locked: its versions change one at a time. */
  lockLive(manager: EntityManager, fileRowId: string): Promise<FileEntity | null> {
    return manager
      .createQueryBuilder(FileEntity, 'f')
      .setLock('pessimistic_write')
      .where('f.id = :fileRowId AND f.deleted_at IS NULL AND f.version_of IS NULL', { fileRowId })
      .getOne();
  }

  /** Copies the file's current content, and moves its chunks, into a new version row `versionRowId`. */
  async archiveCurrent(manager: EntityManager, fileRowId: string, versionRowId: string): Promise<void> {
    await manager.query(
      `INSERT INTO "metadata"."files" ("id", "public_id", "owner_id", ${CONTENT_COLUMNS.join(', ')}, "uploaded_at", "deleted_at", "version_of", "version")
       SELECT $2, "public_id", "owner_id", ${CONTENT_COLUMNS.join(', ')}, "uploaded_at", "deleted_at", "id", "version"
       FROM "metadata"."files" WHERE "id" = $1`,
      [fileRowId, versionRowId],
    );
    await this.moveChunks(manager, fileRowId, versionRowId);
  }

  /** The file's row takes a version's content and chunks (the version row goes), as its next version. */
  async restoreInto(manager: EntityManager, fileRowId: string, version: FileEntity): Promise<void> {
    await this.moveChunks(manager, version.id, fileRowId);
    await manager.query(
      `UPDATE "metadata"."files" f SET ${CONTENT_COLUMNS.map((c) => `${c} = v.${c}`).join(', ')},
         "version" = f."version" + 1, "uploaded_at" = now()
       FROM "metadata"."files" v WHERE f."id" = $1 AND v."id" = $2`,
      [fileRowId, version.id],
    );
    await manager.query(`DELETE FROM "metadata"."files" WHERE "id" = $1`, [version.id]);
  }

  /** The file's row takes new content (its chunks are attached by the commit), as its next version. */
  async replaceContent(
    manager: EntityManager,
    file: FileEntity,
    content: Pick<
      FileEntity,
      'filename' | 'sizeBytes' | 'sha256' | 'contentType' | 'chunkCount' | 'chunkSize' | 'chunkOverhead'
    > &
      Pick<FileEntity, 'wrappedDataKey' | 'masterKeyId' | 'wrappedByUserKey'>,
  ): Promise<FileEntity> {
    await manager.update(FileEntity, { id: file.id }, { ...content, version: file.version + 1, uploadedAt: () => 'now()' });
    return manager.findOneByOrFail(FileEntity, { id: file.id });
  }

  /** Deletes the oldest versions beyond `kept`; their row ids and bytes. */
  async dropBeyond(manager: EntityManager, fileRowId: string, kept: number): Promise<{ rowIds: string[]; bytes: number }> {
    const [row] = await manager.query<{ row_ids: string[]; bytes: string }[]>(
      `WITH dropped AS (
         DELETE FROM "metadata"."files" WHERE "id" IN (
           SELECT "id" FROM "metadata"."files" WHERE "version_of" = $1 ORDER BY "version" DESC OFFSET $2)
         RETURNING "id", "size_bytes")
       SELECT ARRAY(SELECT "id"::text FROM dropped) AS "row_ids", (SELECT COALESCE(sum("size_bytes"), 0) FROM dropped) AS "bytes"`,
      [fileRowId, kept],
    );
    return { rowIds: row?.row_ids ?? [], bytes: Number(row?.bytes ?? 0) };
  }

  /** The file and its versions, newest first. */
  list(fileRowId: string): Promise<FileEntity[]> {
    return this.dataSource.manager
      .createQueryBuilder(FileEntity, 'f')
      .where('f.id = :fileRowId OR f.version_of = :fileRowId', { fileRowId })
      .orderBy('f.version', 'DESC')
      .getMany();
  }

  private async moveChunks(manager: EntityManager, fromRowId: string, toRowId: string): Promise<void> {
    await manager.query(`UPDATE "metadata"."chunks" SET "file_id" = $2 WHERE "file_id" = $1`, [fromRowId, toRowId]);
  }
}
