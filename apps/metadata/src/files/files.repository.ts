import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { InvalidArgumentError } from '@cloudstore/contracts';
import { substringPattern } from '@cloudstore/database';
import { type DataSource, type EntityManager, IsNull } from 'typeorm';
import { FileEntity, OWNER_PUBLIC_ID_UNIQUE } from './file.entity';

/** A chosen file id the owner already uses, for a file (alive or in the trash) or an open upload. */
export function fileIdInUseError(): InvalidArgumentError {
  return new InvalidArgumentError('file_id is already in use');
}

/** The rows of an UPDATE or DELETE … RETURNING: TypeORM answers those on PostgreSQL with [rows, affected]. */
function returnedRows<T>(result: unknown): T[] {
  return (result as [T[], number])[0] ?? [];
}

/** A file leaving the trash for good, as the purge reports it. */
export interface PurgedFile {
  readonly id: string;
  readonly publicId: string;
  readonly ownerId: string;
  readonly filename: string;
  readonly sizeBytes: number;
}

/** SQL of files. Every lookup names the owner in the query itself. */
@Injectable()
export class FilesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(manager: EntityManager, file: Omit<FileEntity, 'uploadedAt' | 'deletedAt'>): Promise<FileEntity> {
    try {
      await manager.insert(FileEntity, file);
    } catch (error) {
      // An upload of the id opened while another of it was committing: the later commit loses.
      if ((error as { constraint?: string }).constraint === OWNER_PUBLIC_ID_UNIQUE) throw fileIdInUseError();
      throw error;
    }
    return manager.findOneByOrFail(FileEntity, { id: file.id });
  }

  /** The owner's live file they know as `fileId`. */
  findActive(ownerId: string, fileId: string): Promise<FileEntity | null> {
    return this.dataSource.manager.findOneBy(FileEntity, { publicId: fileId, ownerId, deletedAt: IsNull() });
  }

  /** Whether one of the owner's files, alive or in the trash, has this id: others' files never count. */
  async idTaken(ownerId: string, fileId: string, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    return (await manager.countBy(FileEntity, { ownerId, publicId: fileId })) > 0;
  }

  /**
   * Newest first; `filter` is a case-insensitive substring of the name, `%` and `_` literal.
   * Counts the matches only when filtered (the unfiltered total is kept with the quota).
   */
  async list(ownerId: string, limit: number, offset: number, filter: string): Promise<[FileEntity[], number | undefined]> {
    const query = this.dataSource.manager
      .createQueryBuilder(FileEntity, 'f')
      .where('f.owner_id = :ownerId AND f.deleted_at IS NULL', { ownerId })
      .orderBy('f.uploaded_at', 'DESC')
      .addOrderBy('f.id', 'DESC')
      .limit(limit)
      .offset(offset);
    if (!filter) return [await query.getMany(), undefined];
    const pattern = substringPattern(filter);
    if (pattern === undefined) return [[], 0];
    query.andWhere(`lower(f.filename) LIKE :pattern ESCAPE '\\'`, { pattern });
    return query.getManyAndCount();
  }

  /** Marks the file deleted (into the trash); the file, or undefined when there was no such live file. */
  async softDelete(manager: EntityManager, ownerId: string, fileId: string): Promise<FileEntity | undefined> {
    const rows = returnedRows<{ id: string; publicId: string; filename: string; sizeBytes: string }>(
      await manager.query(
        `UPDATE "metadata"."files" SET "deleted_at" = now()
         WHERE "public_id" = $1 AND "owner_id" = $2 AND "deleted_at" IS NULL
         RETURNING "id", "public_id" AS "publicId", "filename", "size_bytes" AS "sizeBytes"`,
        [fileId, ownerId],
      ),
    );
    const row = rows[0];
    return row ? ({ ...row, sizeBytes: Number(row.sizeBytes) } as FileEntity) : undefined;
  }

  /** The owner's trash, most recently deleted first, and how many files it holds. */
  listTrash(ownerId: string, limit: number, offset: number): Promise<[FileEntity[], number]> {
    return this.dataSource.manager
      .createQueryBuilder(FileEntity, 'f')
      .where('f.owner_id = :ownerId AND f.deleted_at IS NOT NULL', { ownerId })
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
  ): Promise<FileEntity | undefined> {
    const rows = returnedRows<{ id: string }>(
      await manager.query(
        `UPDATE "metadata"."files" SET "deleted_at" = NULL
         WHERE "public_id" = $1 AND "owner_id" = $2 AND "deleted_at" IS NOT NULL AND "deleted_at" > now() - make_interval(secs => $3)
         RETURNING "id"`,
        [fileId, ownerId, retentionSeconds],
      ),
    );
    return rows[0] ? manager.findOneByOrFail(FileEntity, { id: rows[0].id }) : undefined;
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
    const rows = returnedRows<{ id: string; public_id: string; owner_id: string; filename: string; size_bytes: string }>(
      await manager.query(
        `DELETE FROM "metadata"."files" WHERE "deleted_at" IS NOT NULL AND ${condition}
         RETURNING "id", "public_id", "owner_id", "filename", "size_bytes"`,
        values,
      ),
    );
    const row = rows[0];
    return row
      ? {
          id: row.id,
          publicId: row.public_id,
          ownerId: row.owner_id,
          filename: row.filename,
          sizeBytes: Number(row.size_bytes),
        }
      : undefined;
  }

  /** Files whose time in the trash is over, longest deleted first. */
  async expiredInTrash(retentionSeconds: number, limit: number): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT "id" FROM "metadata"."files"
       WHERE "deleted_at" IS NOT NULL AND "deleted_at" <= now() - make_interval(secs => $1)
       ORDER BY "deleted_at" LIMIT $2`,
      [retentionSeconds, limit],
    );
    return rows.map((r) => r.id);
  }
}
