import { Injectable } from '@nestjs/common';
import { affectedRows, returnedRows } from '@cloudstore/database';
import type { EntityManager } from 'typeorm';

/** What an erasure removed of a user. */
export interface ErasedUserData {
  readonly keyDestroyed: boolean;
  readonly liveFiles: number;
  readonly trashedFiles: number;
  readonly openUploads: number;
}

/**
 * The SQL of a GDPR erasure: every row the metadata service keeps about a user, in one place so
 * that what is erased can be read at a glance (the audit log's rows are pseudonymised by
 * AuditLogRepository). Chunks lose their file or upload and become orphans, which garbage
 * collection removes from every node; their rows name nobody.
 */
@Injectable()
export class UserErasureRepository {
  /**
   * The owner's quota row is locked first, as every change of the owner's uploads locks it first
   * (UploadReservationsService): a chunk being added now is either in before the uploads go, and
   * cut loose with them, or finds its upload gone; and the two cannot deadlock.
   */
  async eraseUser(manager: EntityManager, userId: string): Promise<ErasedUserData> {
    await manager.query(`SELECT 1 FROM "metadata"."user_quotas" WHERE "user_id" = $1 FOR UPDATE`, [userId]);
    const uploads = returnedRows<{ id: string; status: string }>(
      await manager.query(`DELETE FROM "metadata"."uploads" WHERE "owner_id" = $1 RETURNING "id", "status"`, [userId]),
    );
    // Shares of other users' files with this user; those of the user's own files go with them.
    await manager.query(`DELETE FROM "metadata"."file_shares" WHERE "grantee_id" = $1`, [userId]);
    // With their earlier versions (rows of their own), which are not counted as files.
    const files = returnedRows<{ id: string; deleted_at: Date | null; version_of: string | null }>(
      await manager.query(`DELETE FROM "metadata"."files" WHERE "owner_id" = $1 RETURNING "id", "deleted_at", "version_of"`, [
        userId,
      ]),
    );
    await manager.query(
      `UPDATE "metadata"."chunks" SET "file_id" = NULL, "upload_id" = NULL WHERE "upload_id" = ANY($1) OR "file_id" = ANY($2)`,
      [uploads.map((u) => u.id), files.map((f) => f.id)],
    );
    const keyDestroyed =
      affectedRows(await manager.query(`DELETE FROM "metadata"."user_keys" WHERE "user_id" = $1`, [userId])) > 0;
    await manager.query(`DELETE FROM "metadata"."user_quotas" WHERE "user_id" = $1`, [userId]);
    return {
      keyDestroyed,
      liveFiles: files.filter((f) => f.version_of === null && f.deleted_at === null).length,
      trashedFiles: files.filter((f) => f.version_of === null && f.deleted_at !== null).length,
      openUploads: uploads.filter((u) => u.status === 'open').length,
    };
  }
}
