import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { affectedRows } from '@cloudstore/database';
import { fileIdInUseError } from '../files/files.repository';
import { OPEN_UPLOAD_FILE_ID_UNIQUE, UploadEntity } from './upload.entity';

/** SQL of uploads; an upload is changed only with its row locked. */
@Injectable()
export class UploadsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(
    manager: EntityManager,
    upload: Pick<
      UploadEntity,
      | 'id'
      | 'ownerId'
      | 'fileId'
      | 'publicFileId'
      | 'filename'
      | 'contentType'
      | 'declaredSize'
      | 'reservedBytes'
      | 'chunkOverhead'
      | 'versionOf'
      | 'resumable'
      | 'expiresAt'
      | 'expectedSha256'
    >,
  ): Promise<void> {
    try {
      await manager.insert(UploadEntity, { ...upload, status: 'open', receivedBytes: 0 });
    } catch (error) {
      // Two uploads of one owner naming the same new file id at once: the second loses.
      if ((error as { constraint?: string }).constraint === OPEN_UPLOAD_FILE_ID_UNIQUE) throw fileIdInUseError();
      throw error;
    }
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

  /**
   * Bytes held by the owner's other open uploads that rank ahead of this one: every older upload,
   * and every upload of declared size (its reservation is firm), whatever its age.
   */
  async reservedAhead(manager: EntityManager, upload: Pick<UploadEntity, 'id' | 'ownerId'>): Promise<number> {
    const rows = await manager.query<{ bytes: string }[]>(
      `SELECT COALESCE(SUM(u."reserved_bytes"), 0) AS "bytes"
       FROM "metadata"."uploads" u, (SELECT "created_at", "id" FROM "metadata"."uploads" WHERE "id" = $1) me
       WHERE u."owner_id" = $2 AND u."status" = 'open' AND u."id" <> me."id"
         AND (u."declared_size" >= 0 OR (u."created_at", u."id") < (me."created_at", me."id"))`,
      [upload.id, upload.ownerId],
    );
    return Number(rows[0]?.bytes ?? 0);
  }

  /**
   * Takes up to `bytes` from the reservations of the owner's open uploads of undeclared size that
   * are younger than this one, youngest first; answers how many were taken. Their stored chunks
   * stay; each must cover them again before it stores more or commits. Their activity time is
   * left alone: being wounded is not activity.
   */
  async takeFromYounger(manager: EntityManager, upload: Pick<UploadEntity, 'id' | 'ownerId'>, bytes: number): Promise<number> {
    const rows = await manager.query<{ taken: string }[]>(
      `WITH me AS (SELECT "created_at", "id" FROM "metadata"."uploads" WHERE "id" = $1),
       younger AS (
         SELECT u."id", u."reserved_bytes",
                SUM(u."reserved_bytes") OVER (ORDER BY u."created_at" DESC, u."id" DESC) - u."reserved_bytes" AS "before"
         FROM "metadata"."uploads" u, me
         WHERE u."owner_id" = $2 AND u."status" = 'open' AND u."declared_size" < 0 AND u."reserved_bytes" > 0
           AND (u."created_at", u."id") > (me."created_at", me."id")
       ),
       taken AS (
         UPDATE "metadata"."uploads" u SET "reserved_bytes" = u."reserved_bytes" - LEAST(y."reserved_bytes", $3 - y."before")
         FROM younger y WHERE u."id" = y."id" AND y."before" < $3
         RETURNING LEAST(y."reserved_bytes", $3 - y."before") AS "bytes"
       )
       SELECT COALESCE(SUM("bytes"), 0) AS "taken" FROM taken`,
      [upload.id, upload.ownerId, bytes],
    );
    return Number(rows[0]?.taken ?? 0);
  }

  /** Open uploads with no activity for `idleSeconds`: their gateway is gone. */
  async findIdle(idleSeconds: number, limit = 100): Promise<{ id: string; owner_id: string }[]> {
    return this.dataSource.manager.query(
      `SELECT "id", "owner_id" FROM "metadata"."uploads"
       WHERE "status" = 'open' AND NOT "resumable" AND "updated_at" < now() - make_interval(secs => $1) ORDER BY "updated_at" LIMIT $2`,
      [idleSeconds, limit],
    );
  }

  /** Open resumable uploads past their expiry. */
  findExpired(limit = 100): Promise<{ id: string; owner_id: string }[]> {
    return this.dataSource.manager.query(
      `SELECT "id", "owner_id" FROM "metadata"."uploads"
       WHERE "status" = 'open' AND "resumable" AND "expires_at" <= now() ORDER BY "expires_at" LIMIT $1`,
      [limit],
    );
  }

  /** The owner's open resumable upload, with its wrapped data key. */
  findOpenResumable(
    uploadId: string,
    ownerId: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<UploadEntity | null> {
    return manager
      .createQueryBuilder(UploadEntity, 'u')
      .addSelect('u.wrappedDataKey')
      .where(`u.id = :uploadId AND u.owner_id = :ownerId AND u.status = 'open' AND u.resumable AND u.expires_at > now()`, {
        uploadId,
        ownerId,
      })
      .getOne();
  }

  /** The owner's resumable upload, open or committed, until it expires. */
  findUnexpiredResumable(uploadId: string, ownerId: string): Promise<UploadEntity | null> {
    return this.dataSource.manager
      .createQueryBuilder(UploadEntity, 'u')
      .where(
        `u.id = :uploadId AND u.owner_id = :ownerId AND u.status IN ('open', 'committed') AND u.resumable AND u.expires_at > now()`,
        { uploadId, ownerId },
      )
      .getOne();
  }

  /** Keeps a resumable upload's wrapped data key, once; whether it was kept. */
  async setDataKey(uploadId: string, ownerId: string, wrappedDataKey: Buffer): Promise<boolean> {
    const result: unknown = await this.dataSource.manager.query(
      `UPDATE "metadata"."uploads" SET "wrapped_data_key" = $3
       WHERE "id" = $1 AND "owner_id" = $2 AND "status" = 'open' AND "resumable" AND "wrapped_data_key" IS NULL`,
      [uploadId, ownerId, wrappedDataKey],
    );
    return affectedRows(result) > 0;
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

  /** Whether an open upload of the owner will commit a file of this id. */
  async fileIdInUse(ownerId: string, fileId: string, manager: EntityManager): Promise<boolean> {
    return (await manager.countBy(UploadEntity, { ownerId, publicFileId: fileId, status: 'open' })) > 0;
  }
}
