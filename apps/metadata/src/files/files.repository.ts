import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { InvalidArgumentError } from '@cloudstore/contracts';
import { substringPattern } from '@cloudstore/database';
import { type DataSource, type EntityManager, IsNull, Not } from 'typeorm';
import { FileEntity, OWNER_PUBLIC_ID_UNIQUE } from './file.entity';
import type { ListPosition } from './list-cursor';

/** A chosen file id the owner already uses, for a file in the trash or an open upload (a live file's gets a new version). */
export function fileIdInUseError(): InvalidArgumentError {
  return new InvalidArgumentError('file_id is already in use');
}

/** A file leaving the trash for good, as the purge reports it. */
export interface PurgedFile {
  readonly id: string;
  readonly publicId: string;
  readonly ownerId: string;
  readonly filename: string;
  /** With its earlier versions'. */
  readonly sizeBytes: number;
  /** The rows gone: the file's and its versions', whose chunks are cut loose. */
  readonly rowIds: string[];
}

/** A file whose data key the master key wraps directly, as a rotation re-wraps it. */
export type MasterWrappedDataKey = Pick<FileEntity, 'id' | 'publicId' | 'ownerId'> & {
  readonly wrappedDataKey: Buffer;
  readonly masterKeyId: string;
};

/** The fields of a file that listings show (its own, a trash's, a share's). */
export type FileFields = Pick<
  FileEntity,
  | 'publicId'
  | 'filename'
  | 'sizeBytes'
  | 'sha256'
  | 'uploadedAt'
  | 'contentType'
  | 'chunkCount'
  | 'chunkSize'
  | 'deletedAt'
  | 'version'
>;

/** Those fields as a raw query returns them (the file's columns, unaliased). */
export interface FileFieldsRow {
  public_id: string;
  filename: string;
  size_bytes: string;
  sha256: string;
  uploaded_at: Date;
  content_type: string;
  chunk_count: number;
  chunk_size: string;
  deleted_at?: Date | null;
  version: number;
}

export function fileFields(row: FileFieldsRow): FileFields {
  return {
    publicId: row.public_id,
    filename: row.filename,
    sizeBytes: Number(row.size_bytes),
    sha256: row.sha256,
    uploadedAt: row.uploaded_at,
    contentType: row.content_type,
    chunkCount: row.chunk_count,
    chunkSize: Number(row.chunk_size),
    deletedAt: row.deleted_at ?? null,
    version: row.version,
  };
}

/** A live file as listings show it, with its position in the listing. */
export type ListedFile = FileFields & { readonly position: ListPosition };

interface ListedFileRow extends FileFieldsRow {
  id: string;
  position: string;
}

const LISTED_COLUMNS = `"id", "public_id", "filename", "size_bytes", "sha256", "uploaded_at",
  (extract(epoch FROM "uploaded_at") * 1000000)::bigint::text AS "position", "content_type", "chunk_count", "chunk_size", "version"`;

function listedFile(row: ListedFileRow): ListedFile {
  return { ...fileFields(row), position: { atMicros: row.position, id: row.id } };
}

/** SQL of files. Every lookup names the owner in the query itself. */
@Injectable()
export class FilesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(
    manager: EntityManager,
    file: Omit<FileEntity, 'uploadedAt' | 'deletedAt' | 'versionOf' | 'version'>,
  ): Promise<FileEntity> {
    try {
      await manager.insert(FileEntity, file);
    } catch (error) {
      // An upload of the id opened while another of it was committing: the later commit loses.
      if ((error as { constraint?: string }).constraint === OWNER_PUBLIC_ID_UNIQUE) throw fileIdInUseError();
      throw error;
    }
    return manager.findOneByOrFail(FileEntity, { id: file.id });
  }

  /** Up to `limit` data keys still wrapped by a master key directly (stored before user keys). */
  masterWrappedDataKeys(limit: number): Promise<MasterWrappedDataKey[]> {
    return this.dataSource.manager.find(FileEntity, {
      select: { id: true, publicId: true, ownerId: true, wrappedDataKey: true, masterKeyId: true },
      where: { wrappedByUserKey: false, wrappedDataKey: Not(IsNull()) },
      order: { id: 'ASC' },
      take: limit,
    }) as Promise<MasterWrappedDataKey[]>;
  }

  /** Puts a data key under its owner's key, only if it is still the master-wrapped one read. */
  async wrapDataKeyByUserKey(file: MasterWrappedDataKey, wrappedDataKey: Buffer): Promise<boolean> {
    const result = await this.dataSource.manager.update(
      FileEntity,
      { id: file.id, wrappedByUserKey: false, wrappedDataKey: file.wrappedDataKey, masterKeyId: file.masterKeyId },
      { wrappedByUserKey: true, wrappedDataKey, masterKeyId: null },
    );
    return (result.affected ?? 0) > 0;
  }

  /** The owner's live file they know as `fileId`. */
  findActive(ownerId: string, fileId: string, manager: EntityManager = this.dataSource.manager): Promise<FileEntity | null> {
    return manager.findOneBy(FileEntity, { publicId: fileId, ownerId, deletedAt: IsNull(), versionOf: IsNull() });
  }

  /**
   * The live file `userId` may read as `fileId`: their own, else one shared with them (the first
   * shared, should two owners' files share an id); with the owner's username when shared.
   */
  async findReadable(userId: string, fileId: string): Promise<{ file: FileEntity; sharedBy?: string } | null> {
    const own = await this.findActive(userId, fileId);
    if (own) return { file: own };
    const [shared] = await this.dataSource.query<{ id: string; owner_username: string }[]>(
      `SELECT f."id", s."owner_username" FROM "metadata"."file_shares" s JOIN "metadata"."files" f ON f."id" = s."file_id"
       WHERE s."grantee_id" = $1 AND f."public_id" = $2 AND f."deleted_at" IS NULL
       ORDER BY s."created_at", f."id" LIMIT 1`,
      [userId, fileId],
    );
    if (!shared) return null;
    const file = await this.dataSource.manager.findOneBy(FileEntity, { id: shared.id, deletedAt: IsNull() });
    return file ? { file, sharedBy: shared.owner_username } : null;
  }

  /** The owner's file they know as `fileId`, alive or in the trash. */
  findOwned(ownerId: string, fileId: string, manager: EntityManager = this.dataSource.manager): Promise<FileEntity | null> {
    return manager.findOneBy(FileEntity, { publicId: fileId, ownerId, versionOf: IsNull() });
  }

  /**
   * A version of the file by its number (its `version_id`, which never changes: the current
   * content keeps its number when it becomes an earlier version); the file itself for its current one.
   */
  async findVersion(file: FileEntity, versionId: string): Promise<FileEntity | null> {
    if (!/^[1-9]\d{0,8}$/.test(versionId)) return null;
    if (Number(versionId) === file.version) return file;
    return this.dataSource.manager.findOneBy(FileEntity, { versionOf: file.id, version: Number(versionId) });
  }

  /**
   * Newest first; `filter` is a case-insensitive substring of the name, `%` and `_` literal;
   * `after` a position a page before ended at, to go on from (keyset: no rows skipped over).
   * Counts the matches only when filtered (the unfiltered total is kept with the quota), in the
   * same query unless the page is empty or starts after a position.
   */
  async list(
    ownerId: string,
    page: { limit: number; offset: number; filter: string; after?: ListPosition },
  ): Promise<{ files: ListedFile[]; total?: number }> {
    const where = ['"owner_id" = $1', '"deleted_at" IS NULL', '"version_of" IS NULL'];
    const params: unknown[] = [ownerId];
    if (page.filter) {
      const pattern = substringPattern(page.filter);
      if (pattern === undefined) return { files: [], total: 0 };
      params.push(pattern);
      where.push(`lower("filename") LIKE $${params.length} ESCAPE '\\'`);
    }
    const filtered = { clauses: where.length, params: params.length };
    if (page.after) {
      params.push(page.after.atMicros, page.after.id);
      where.push(
        `("uploaded_at", "id") < ('epoch'::timestamptz + $${params.length - 1}::bigint * interval '1 microsecond', $${params.length}::uuid)`,
      );
    }
    const countHere = page.filter && !page.after;
    params.push(page.limit, page.offset);
    const rows = await this.dataSource.manager.query<(ListedFileRow & { total?: string })[]>(
      `SELECT ${LISTED_COLUMNS}${countHere ? ', count(*) OVER () AS "total"' : ''}
       FROM "metadata"."files" WHERE ${where.join(' AND ')}
       ORDER BY "uploaded_at" DESC, "id" DESC LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    const files = rows.map(listedFile);
    if (!page.filter) return { files };
    if (countHere && rows[0]) return { files, total: Number(rows[0].total) };
    const [count] = await this.dataSource.manager.query<{ n: string }[]>(
      `SELECT count(*) AS "n" FROM "metadata"."files" WHERE ${where.slice(0, filtered.clauses).join(' AND ')}`,
      params.slice(0, filtered.params),
    );
    return { files, total: Number(count?.n ?? 0) };
  }

  /**
   * Marks the file and its earlier versions deleted (into the trash); the file, with the bytes of
   * all its versions in `totalBytes`, or undefined when there was no such live file.
   */
  async softDelete(
    manager: EntityManager,
    ownerId: string,
    fileId: string,
  ): Promise<(Pick<FileEntity, 'id' | 'publicId' | 'filename' | 'sizeBytes'> & { totalBytes: number }) | undefined> {
    const rows = await manager.query<
      { id: string; public_id: string; filename: string; size_bytes: string; total_bytes: string }[]
    >(
      `WITH file AS (
           UPDATE "metadata"."files" SET "deleted_at" = now()
           WHERE "public_id" = $1 AND "owner_id" = $2 AND "deleted_at" IS NULL AND "version_of" IS NULL
           RETURNING "id", "public_id", "filename", "size_bytes", "deleted_at"),
         versions AS (
           UPDATE "metadata"."files" v SET "deleted_at" = file."deleted_at" FROM file
           WHERE v."version_of" = file."id" RETURNING v."size_bytes")
         SELECT file.*, file."size_bytes" + (SELECT COALESCE(sum("size_bytes"), 0) FROM versions) AS "total_bytes" FROM file`,
      [fileId, ownerId],
    );
    const row = rows[0];
    return row
      ? {
          id: row.id,
          publicId: row.public_id,
          filename: row.filename,
          sizeBytes: Number(row.size_bytes),
          totalBytes: Number(row.total_bytes),
        }
      : undefined;
  }

  /** The owner's trash, most recently deleted first, and how many files it holds. */
  listTrash(ownerId: string, limit: number, offset: number): Promise<[FileEntity[], number]> {
    return this.dataSource.manager
      .createQueryBuilder(FileEntity, 'f')
      .where('f.owner_id = :ownerId AND f.deleted_at IS NOT NULL AND f.version_of IS NULL', { ownerId })
      .orderBy('f.deleted_at', 'DESC')
      .addOrderBy('f.id', 'DESC')
      .limit(limit)
      .offset(offset)
      .getManyAndCount();
  }

  /**
   * Takes a file out of the trash unless its retention has run out; the file, or undefined. The
   * row lock it takes orders it with a purge of the same file: whichever comes second finds nothing.
   */
  async restore(
    manager: EntityManager,
    ownerId: string,
    fileId: string,
    retentionSeconds: number,
  ): Promise<{ file: FileEntity; totalBytes: number } | undefined> {
    const rows = await manager.query<{ id: string; total_bytes: string }[]>(
      `WITH file AS (
           UPDATE "metadata"."files" SET "deleted_at" = NULL
           WHERE "public_id" = $1 AND "owner_id" = $2 AND "version_of" IS NULL
             AND "deleted_at" IS NOT NULL AND "deleted_at" > now() - make_interval(secs => $3)
           RETURNING "id", "size_bytes"),
         versions AS (
           UPDATE "metadata"."files" v SET "deleted_at" = NULL FROM file WHERE v."version_of" = file."id" RETURNING v."size_bytes")
         SELECT file."id", file."size_bytes" + (SELECT COALESCE(sum("size_bytes"), 0) FROM versions) AS "total_bytes" FROM file`,
      [fileId, ownerId, retentionSeconds],
    );
    const row = rows[0];
    return row
      ? { file: await manager.findOneByOrFail(FileEntity, { id: row.id }), totalBytes: Number(row.total_bytes) }
      : undefined;
  }

  /**
   * Deletes the record of a file in the trash: the owner's file at their request (by the id they
   * know it by), or a file whose retention ran out (by its row id). Undefined when there was no
   * such file (restored, or purged already).
   */
  async deleteFromTrash(
    manager: EntityManager,
    which: { ownerId: string; fileId: string } | { id: string; retentionSeconds: number },
  ): Promise<PurgedFile | undefined> {
    const [condition, values] =
      'ownerId' in which
        ? [`"public_id" = $1 AND "owner_id" = $2`, [which.fileId, which.ownerId]]
        : [`"id" = $1 AND "deleted_at" <= now() - make_interval(secs => $2)`, [which.id, which.retentionSeconds]];
    const rows = await manager.query<
      { id: string; public_id: string; owner_id: string; filename: string; size_bytes: string; version_ids: string[] }[]
    >(
      `WITH file AS (
         DELETE FROM "metadata"."files" WHERE "deleted_at" IS NOT NULL AND "version_of" IS NULL AND ${condition}
         RETURNING "id", "public_id", "owner_id", "filename", "size_bytes"),
       versions AS (
         DELETE FROM "metadata"."files" v USING file WHERE v."version_of" = file."id" RETURNING v."id", v."size_bytes")
       SELECT file."id", file."public_id", file."owner_id", file."filename",
              file."size_bytes" + (SELECT COALESCE(sum("size_bytes"), 0) FROM versions) AS "size_bytes",
              ARRAY(SELECT "id"::text FROM versions) AS "version_ids"
       FROM file`,
      values,
    );
    const row = rows[0];
    return row
      ? {
          id: row.id,
          publicId: row.public_id,
          ownerId: row.owner_id,
          filename: row.filename,
          sizeBytes: Number(row.size_bytes),
          rowIds: [row.id, ...row.version_ids],
        }
      : undefined;
  }

  /** Files whose time in the trash is over, longest deleted first. */
  async expiredInTrash(retentionSeconds: number, limit: number): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT "id" FROM "metadata"."files"
       WHERE "deleted_at" IS NOT NULL AND "version_of" IS NULL AND "deleted_at" <= now() - make_interval(secs => $1)
       ORDER BY "deleted_at" LIMIT $2`,
      [retentionSeconds, limit],
    );
    return rows.map((r) => r.id);
  }
}
