import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { MetadataConfig } from '@cloudstore/config';
import type { DataSource, EntityManager } from 'typeorm';
import { METADATA_CONFIG } from '../metadata.tokens';
import { UserQuotaEntity } from './user-quota.entity';

export interface QuotaRow {
  readonly usedBytes: number;
  readonly reservedBytes: number;
  /** null when unlimited. */
  readonly limitBytes: number | null;
}

/**
 * SQL of quotas. Reservations and charges are single conditional UPDATEs: the database decides
 * whether the bytes fit, so concurrent uploads can never push a user past the limit.
 */
@Injectable()
export class QuotasRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
  ) {}

  /**
   * The effective limit in SQL: a custom quota, else the role's default; NULL is unlimited.
   * It uses $1-$3, which `withLimitParams` fills; a statement's own parameters start at $4.
   */
  private limitSql(alias: string): string {
    return `COALESCE(${alias}."quota_bytes", CASE ${alias}."role" WHEN 'premium' THEN $1::bigint WHEN 'admin' THEN NULLIF($2::bigint, 0) ELSE $3::bigint END)`;
  }

  private withLimitParams(params: unknown[]): unknown[] {
    return [this.config.PREMIUM_QUOTA_BYTES, this.config.ADMIN_QUOTA_BYTES, this.config.DEFAULT_QUOTA_BYTES, ...params];
  }

  private manager(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  /** Creates the user's row, or brings its role up to date (the role picks the default quota). */
  async ensure(userId: string, role: string, manager?: EntityManager): Promise<void> {
    await this.manager(manager).query(
      `INSERT INTO "metadata"."user_quotas" ("user_id", "role") VALUES ($1, $2)
       ON CONFLICT ("user_id") DO UPDATE SET "role" = EXCLUDED."role", "updated_at" = now()
       WHERE "user_quotas"."role" IS DISTINCT FROM EXCLUDED."role"`,
      [userId, role || 'basic'],
    );
  }

  /**
   * The owner's row, locked until the transaction ends. Whatever changes an owner's reservations
   * takes this lock first, then upload rows: such changes happen one at a time per owner and
   * always lock in the same order, so they cannot deadlock.
   */
  lock(userId: string, manager: EntityManager): Promise<QuotaRow | undefined> {
    return this.select(userId, manager, 'FOR UPDATE');
  }

  /** Holds `bytes` for an upload; false (nothing changed) when they do not fit. */
  async reserve(userId: string, bytes: number, manager?: EntityManager): Promise<boolean> {
    const limit = this.limitSql('"user_quotas"');
    const result: unknown = await this.manager(manager).query(
      `UPDATE "metadata"."user_quotas" SET "reserved_bytes" = "reserved_bytes" + $4, "updated_at" = now()
       WHERE "user_id" = $5 AND (${limit} IS NULL OR "used_bytes" + "reserved_bytes" + $4 <= ${limit})`,
      this.withLimitParams([bytes, userId]),
    );
    // TypeORM answers an UPDATE on PostgreSQL with [rows, affected].
    return Array.isArray(result) && result[1] === 1;
  }

  async release(userId: string, bytes: number, manager?: EntityManager): Promise<void> {
    if (bytes <= 0) return;
    await this.manager(manager).query(
      `UPDATE "metadata"."user_quotas" SET "reserved_bytes" = GREATEST("reserved_bytes" - $1, 0), "updated_at" = now() WHERE "user_id" = $2`,
      [bytes, userId],
    );
  }

  /**
   * Turns an upload's reservation into used bytes of the committed file, and counts the file
   * (`files` 0 for a new version of a file already counted).
   */
  async charge(userId: string, reservedBytes: number, sizeBytes: number, manager: EntityManager, files = 1): Promise<void> {
    await manager.query(
      `UPDATE "metadata"."user_quotas"
       SET "used_bytes" = "used_bytes" + $1, "reserved_bytes" = GREATEST("reserved_bytes" - $2, 0), "file_count" = "file_count" + $4, "updated_at" = now()
       WHERE "user_id" = $3`,
      [sizeBytes, reservedBytes, userId, files],
    );
  }

  /** A file came back from the trash: its bytes count again; false (nothing changed) when they do not fit. */
  async chargeRestored(userId: string, bytes: number, manager: EntityManager): Promise<boolean> {
    const limit = this.limitSql('"user_quotas"');
    const result: unknown = await manager.query(
      `UPDATE "metadata"."user_quotas" SET "used_bytes" = "used_bytes" + $4, "file_count" = "file_count" + 1, "updated_at" = now()
       WHERE "user_id" = $5 AND (${limit} IS NULL OR "used_bytes" + "reserved_bytes" + $4 <= ${limit})`,
      this.withLimitParams([bytes, userId]),
    );
    return Array.isArray(result) && result[1] === 1;
  }

  /** A file was deleted: its bytes come back, and it no longer counts (`files` 0: earlier versions dropped). */
  async refund(userId: string, bytes: number, manager: EntityManager, files = 1): Promise<void> {
    await manager.query(
      `UPDATE "metadata"."user_quotas"
       SET "used_bytes" = GREATEST("used_bytes" - $1, 0), "file_count" = GREATEST("file_count" - $3, 0), "updated_at" = now()
       WHERE "user_id" = $2`,
      [bytes, userId, files],
    );
  }

  find(userId: string): Promise<QuotaRow | undefined> {
    return this.select(userId, this.dataSource.manager, '');
  }

  private async select(userId: string, manager: EntityManager, lock: 'FOR UPDATE' | ''): Promise<QuotaRow | undefined> {
    const rows = await manager.query<{ used_bytes: string; reserved_bytes: string; limit_bytes: string | null }[]>(
      `SELECT q."used_bytes", q."reserved_bytes", ${this.limitSql('q')} AS "limit_bytes" FROM "metadata"."user_quotas" q
       WHERE q."user_id" = $4 ${lock}`,
      this.withLimitParams([userId]),
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      usedBytes: Number(row.used_bytes),
      reservedBytes: Number(row.reserved_bytes),
      limitBytes: row.limit_bytes === null ? null : Number(row.limit_bytes),
    };
  }

  /** Users with a limit whose used bytes reach `fraction` of it; unlimited users never count. */
  async countNearLimit(fraction: number): Promise<number> {
    const rows = await this.dataSource.manager.query<{ count: string }[]>(
      `SELECT count(*) AS "count"
       FROM (SELECT q."used_bytes", ${this.limitSql('q')} AS "limit_bytes" FROM "metadata"."user_quotas" q) l
       WHERE l."limit_bytes" IS NOT NULL AND l."used_bytes" >= $4::numeric * l."limit_bytes"`,
      this.withLimitParams([fraction]),
    );
    return Number(rows[0]?.count ?? 0);
  }

  async fileCount(userId: string): Promise<number> {
    const rows = await this.dataSource.manager.query<{ file_count: string }[]>(
      `SELECT "file_count" FROM "metadata"."user_quotas" WHERE "user_id" = $1`,
      [userId],
    );
    return Number(rows[0]?.file_count ?? 0);
  }

  /** A custom quota (null returns to the role's default) and/or the role. */
  async set(userId: string, patch: { quotaBytes?: number | null; role?: string }): Promise<void> {
    const values: Partial<UserQuotaEntity> = {};
    const columns: string[] = ['updated_at'];
    if (patch.quotaBytes !== undefined) {
      values.quotaBytes = patch.quotaBytes;
      columns.push('quota_bytes');
    }
    if (patch.role) {
      values.role = patch.role;
      columns.push('role');
    }
    await this.dataSource.manager
      .createQueryBuilder()
      .insert()
      .into(UserQuotaEntity)
      .values({ userId, role: 'basic', ...values })
      .orUpdate(columns, ['user_id'])
      .execute();
  }
}
