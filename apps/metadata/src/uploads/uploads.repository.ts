import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { UploadEntity } from './upload.entity';

/** SQL of uploads; an upload is changed only with its row locked. */
@Injectable()
export class UploadsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async insert(
    manager: EntityManager,
    upload: Pick<
      UploadEntity,
      'id' | 'ownerId' | 'fileId' | 'filename' | 'contentType' | 'declaredSize' | 'reservedBytes' | 'chunkOverhead'
    >,
  ): Promise<void> {
    await manager.insert(UploadEntity, { ...upload, status: 'open', receivedBytes: 0 });
  }

  /** The open upload of this owner, locked until the transaction ends. */
  lockOpen(manager: EntityManager, uploadId: string, ownerId: string): Promise<UploadEntity | null> {
    return manager
      .createQueryBuilder(UploadEntity, 'u')
      .setLock('pessimistic_write')
      .where(`u.id = :uploadId AND u.owner_id = :ownerId AND u.status = 'open'`, { uploadId, ownerId })
      .getOne();
  }

  async update(
    manager: EntityManager,
    uploadId: string,
    patch: Partial<Pick<UploadEntity, 'receivedBytes' | 'reservedBytes' | 'status'>>,
  ): Promise<void> {
    await manager.update(UploadEntity, { id: uploadId }, { ...patch, updatedAt: () => 'now()' });
  }

  /** Open uploads with no activity for `idleSeconds`: their gateway is gone. */
  async findIdle(idleSeconds: number, limit = 100): Promise<{ id: string; owner_id: string }[]> {
    return this.dataSource.manager.query(
      `SELECT "id", "owner_id" FROM "metadata"."uploads"
       WHERE "status" = 'open' AND "updated_at" < now() - make_interval(secs => $1) ORDER BY "updated_at" LIMIT $2`,
      [idleSeconds, limit],
    );
  }

  /** Aborted uploads whose chunks are still recorded: their collection failed and is tried again. */
  async abortedWithLeftovers(olderThanSeconds: number, limit = 100): Promise<string[]> {
    const rows = await this.dataSource.manager.query<{ id: string }[]>(
      `SELECT u.id FROM "metadata"."uploads" u
       WHERE u.status = 'aborted' AND u.updated_at < now() - make_interval(secs => $1)
         AND EXISTS (SELECT 1 FROM "metadata"."chunks" c WHERE c.upload_id = u.id AND c.file_id IS NULL)
       LIMIT $2`,
      [olderThanSeconds, limit],
    );
    return rows.map((r) => r.id);
  }

  async fileIdInUse(fileId: string, manager: EntityManager): Promise<boolean> {
    return (await manager.countBy(UploadEntity, { fileId })) > 0;
  }
}
