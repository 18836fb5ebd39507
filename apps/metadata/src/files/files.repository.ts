import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager, IsNull } from 'typeorm';
import { FileEntity } from './file.entity';

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** SQL of files. Every lookup names the owner in the query itself. */
@Injectable()
export class FilesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(manager: EntityManager, file: Omit<FileEntity, 'uploadedAt' | 'deletedAt'>): Promise<FileEntity> {
    await manager.insert(FileEntity, file);
    return manager.findOneByOrFail(FileEntity, { id: file.id });
  }

  findActive(ownerId: string, fileId: string): Promise<FileEntity | null> {
    return this.dataSource.manager.findOneBy(FileEntity, { id: fileId, ownerId, deletedAt: IsNull() });
  }

  /** Whether any file, of anyone, alive or deleted, has this id. */
  async idTaken(fileId: string, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    return (await manager.countBy(FileEntity, { id: fileId })) > 0;
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
    query.andWhere(`lower(f.filename) LIKE :pattern ESCAPE '\\'`, { pattern: `%${escapeLike(filter.toLowerCase())}%` });
    return query.getManyAndCount();
  }

  /** Marks the file deleted; its size, or undefined when there was no such live file. */
  async softDelete(manager: EntityManager, ownerId: string, fileId: string): Promise<FileEntity | undefined> {
    const rows = await manager.query<FileEntity[]>(
      `UPDATE "metadata"."files" SET "deleted_at" = now()
       WHERE "id" = $1 AND "owner_id" = $2 AND "deleted_at" IS NULL
       RETURNING "id", "filename", "size_bytes" AS "sizeBytes"`,
      [fileId, ownerId],
    );
    const row = (rows as unknown as [FileEntity[], number])[0]?.[0];
    return row ? { ...row, sizeBytes: Number(row.sizeBytes) } : undefined;
  }
}
