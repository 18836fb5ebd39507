import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** What an erasure removed of a user. */
export interface ErasedUserData {
  readonly keyDestroyed: boolean;
  readonly liveFiles: number;
  readonly trashedFiles: number;
  readonly openUploads: number;
}

/** The count of a DELETE … RETURNING: TypeORM answers it on PostgreSQL with [rows, affected]. */
function affected(result: unknown): number {
  return Array.isArray(result) ? Number(result[1]) || 0 : 0;
}

/**
 * The SQL of a GDPR erasure: every row the metadata service keeps about a user, in one place so
 * that what is erased can be read at a glance (the audit log's rows are pseudonymised by
 * AuditLogRepository). Chunks lose their file or upload and become orphans, which garbage
 * collection removes from every node; their rows name nobody.
 */
@Injectable()
export class UserErasureRepository {
  async eraseUser(manager: EntityManager, userId: string): Promise<ErasedUserData> {
    const keyDestroyed = affected(await manager.query(`DELETE FROM "metadata"."user_keys" WHERE "user_id" = $1`, [userId])) > 0;
    await manager.query(
      `UPDATE "metadata"."chunks" SET "file_id" = NULL, "upload_id" = NULL
       WHERE "file_id" IN (SELECT "id" FROM "metadata"."files" WHERE "owner_id" = $1)
          OR "upload_id" IN (SELECT "id" FROM "metadata"."uploads" WHERE "owner_id" = $1)`,
      [userId],
    );
    const [files] = await manager.query<[{ live: number; trashed: number }]>(
      `WITH erased AS (DELETE FROM "metadata"."files" WHERE "owner_id" = $1 RETURNING "deleted_at")
       SELECT count(*) FILTER (WHERE "deleted_at" IS NULL)::int AS "live", count("deleted_at")::int AS "trashed" FROM erased`,
      [userId],
    );
    const [uploads] = await manager.query<[{ open: number }]>(
      `WITH erased AS (DELETE FROM "metadata"."uploads" WHERE "owner_id" = $1 RETURNING "status")
       SELECT count(*) FILTER (WHERE "status" = 'open')::int AS "open" FROM erased`,
      [userId],
    );
    await manager.query(`DELETE FROM "metadata"."user_quotas" WHERE "user_id" = $1`, [userId]);
    return { keyDestroyed, liveFiles: files.live, trashedFiles: files.trashed, openUploads: uploads.open };
  }
}
