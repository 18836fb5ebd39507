import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { returnedRows } from '@cloudstore/database';
import type { DataSource, EntityManager } from 'typeorm';
import { type FileFields, fileFields, type FileFieldsRow } from '../files/files.repository';
import type { SharePermission } from './file-share.entity';

/** A share with the file it is of, as listings show it. */
export interface ShareWithFile {
  readonly granteeUsername: string;
  readonly ownerUsername: string;
  readonly permission: SharePermission;
  readonly createdAt: Date;
  readonly file: FileFields;
}

interface ShareRow extends FileFieldsRow {
  grantee_username: string;
  owner_username: string;
  permission: SharePermission;
  created_at: Date;
  total: string;
}

function shareWithFile(row: ShareRow): ShareWithFile {
  return {
    granteeUsername: row.grantee_username,
    ownerUsername: row.owner_username,
    permission: row.permission,
    createdAt: row.created_at,
    file: fileFields(row),
  };
}

const SHARE_COLUMNS = `s."grantee_username", s."owner_username", s."permission", s."created_at", f."public_id", f."filename",
  f."size_bytes", f."sha256", f."uploaded_at", f."content_type", f."chunk_count", f."chunk_size", f."deleted_at", f."version",
  count(*) OVER () AS "total"`;

/** SQL of shares. A grantee reaches a shared file only through a row here naming them. */
@Injectable()
export class FileSharesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Grants (or re-grants, with the new permission) access to a file; the time it was first granted. */
  async upsert(
    manager: EntityManager,
    share: { fileId: string; granteeId: string; granteeUsername: string; ownerUsername: string; permission: SharePermission },
  ): Promise<Date> {
    const rows = returnedRows<{ created_at: Date }>(
      await manager.query(
        `INSERT INTO "metadata"."file_shares" ("file_id", "grantee_id", "grantee_username", "owner_username", "permission")
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT ("file_id", "grantee_id") DO UPDATE SET "permission" = EXCLUDED."permission"
         RETURNING "created_at"`,
        [share.fileId, share.granteeId, share.granteeUsername, share.ownerUsername, share.permission],
      ),
    );
    return rows[0]?.created_at ?? new Date();
  }

  /** Ends a share, named by the grantee's username (case-insensitively, as usernames are unique); the grantee's id, or undefined. */
  async delete(manager: EntityManager, fileId: string, granteeUsername: string): Promise<string | undefined> {
    const rows = returnedRows<{ grantee_id: string }>(
      await manager.query(
        `DELETE FROM "metadata"."file_shares" WHERE "file_id" = $1 AND lower("grantee_username") = lower($2) RETURNING "grantee_id"`,
        [fileId, granteeUsername],
      ),
    );
    return rows[0]?.grantee_id;
  }

  /** Live files shared with the grantee, most recently shared first. */
  async received(granteeId: string, page: { limit: number; offset: number }): Promise<[ShareWithFile[], number]> {
    return this.page(
      `FROM "metadata"."file_shares" s JOIN "metadata"."files" f ON f."id" = s."file_id"
       WHERE s."grantee_id" = $1 AND f."deleted_at" IS NULL`,
      [granteeId],
      page,
    );
  }

  /** The shares the owner granted, of every file (also those in the trash) or of one (its row id). */
  async granted(
    ownerId: string,
    fileId: string | undefined,
    page: { limit: number; offset: number },
  ): Promise<[ShareWithFile[], number]> {
    return fileId === undefined
      ? this.page(
          `FROM "metadata"."file_shares" s JOIN "metadata"."files" f ON f."id" = s."file_id" WHERE f."owner_id" = $1`,
          [ownerId],
          page,
        )
      : this.page(
          `FROM "metadata"."file_shares" s JOIN "metadata"."files" f ON f."id" = s."file_id"
           WHERE f."owner_id" = $1 AND f."id" = $2`,
          [ownerId, fileId],
          page,
        );
  }

  private async page(
    fromWhere: string,
    params: unknown[],
    page: { limit: number; offset: number },
  ): Promise<[ShareWithFile[], number]> {
    const rows = await this.dataSource.query<ShareRow[]>(
      `SELECT ${SHARE_COLUMNS} ${fromWhere}
       ORDER BY s."created_at" DESC, s."file_id", s."grantee_id" LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, page.limit, page.offset],
    );
    if (rows[0] || page.offset === 0) return [rows.map(shareWithFile), Number(rows[0]?.total ?? 0)];
    const [count] = await this.dataSource.query<{ n: string }[]>(`SELECT count(*) AS "n" ${fromWhere}`, params);
    return [[], Number(count?.n ?? 0)];
  }
}
