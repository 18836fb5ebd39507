import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { affectedRows, returnedRows } from '@cloudstore/database';
import { type DataSource, type EntityManager, IsNull } from 'typeorm';
import { FileEntity } from '../files/file.entity';

/** A link as its owner lists it. */
export interface LinkSummary {
  readonly id: string;
  readonly expiresAt: Date;
  readonly createdAt: Date;
  readonly hasPassword: boolean;
}

/** A link that still opens, with its live file. */
export interface OpenLink {
  readonly id: string;
  readonly passwordHash: string | null;
  readonly file: FileEntity;
}

/** Expired links are kept this long (listed no more, opening nothing) before the sweep deletes them. */
const EXPIRED_KEPT_SECONDS = 86_400;

/** SQL of download links. A link is found by the SHA-256 of its secret only. */
@Injectable()
export class DownloadLinksRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(
    manager: EntityManager,
    link: { id: string; fileId: string; tokenSha256: Buffer; passwordHash: string | null; expiresAt: Date },
  ): Promise<LinkSummary> {
    const rows = returnedRows<{ created_at: Date }>(
      await manager.query(
        `INSERT INTO "metadata"."download_links" ("id", "file_id", "token_sha256", "password_hash", "expires_at")
         VALUES ($1, $2, $3, $4, $5) RETURNING "created_at"`,
        [link.id, link.fileId, link.tokenSha256, link.passwordHash, link.expiresAt],
      ),
    );
    return {
      id: link.id,
      expiresAt: link.expiresAt,
      createdAt: rows[0]?.created_at ?? new Date(),
      hasPassword: link.passwordHash !== null,
    };
  }

  /** The file's links that have not expired, newest first. */
  async ofFile(fileId: string): Promise<LinkSummary[]> {
    const rows = await this.dataSource.query<{ id: string; expires_at: Date; created_at: Date; has_password: boolean }[]>(
      `SELECT "id", "expires_at", "created_at", "password_hash" IS NOT NULL AS "has_password"
       FROM "metadata"."download_links" WHERE "file_id" = $1 AND "expires_at" > now()
       ORDER BY "created_at" DESC, "id"`,
      [fileId],
    );
    return rows.map((r) => ({ id: r.id, expiresAt: r.expires_at, createdAt: r.created_at, hasPassword: r.has_password }));
  }

  /** Revokes a link of the file: whether there was one. */
  async delete(manager: EntityManager, fileId: string, linkId: string): Promise<boolean> {
    return (
      affectedRows(
        await manager.query(`DELETE FROM "metadata"."download_links" WHERE "id" = $1 AND "file_id" = $2`, [linkId, fileId]),
      ) > 0
    );
  }

  /** The link of this secret, if it has not expired and its file is live (not in the trash). */
  async findOpen(tokenSha256: Buffer): Promise<OpenLink | undefined> {
    const [row] = await this.dataSource.query<{ id: string; file_id: string; password_hash: string | null }[]>(
      `SELECT "id", "file_id", "password_hash" FROM "metadata"."download_links"
       WHERE "token_sha256" = $1 AND "expires_at" > now()`,
      [tokenSha256],
    );
    if (!row) return undefined;
    const file = await this.dataSource.manager.findOneBy(FileEntity, { id: row.file_id, deletedAt: IsNull() });
    return file ? { id: row.id, passwordHash: row.password_hash, file } : undefined;
  }

  /** Deletes links expired for a while; how many. */
  async deleteExpired(): Promise<number> {
    return affectedRows(
      await this.dataSource.query(
        `DELETE FROM "metadata"."download_links" WHERE "expires_at" <= now() - make_interval(secs => $1)`,
        [EXPIRED_KEPT_SECONDS],
      ),
    );
  }
}
