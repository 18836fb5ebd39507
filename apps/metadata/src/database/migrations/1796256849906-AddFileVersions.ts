import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddFileVersions1796256849906 implements MigrationInterface {
  name = 'AddFileVersions1796256849906';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metadata"."files" ADD "version_of" uuid`);
    await queryRunner.query(`ALTER TABLE "metadata"."files" ADD "version" integer NOT NULL DEFAULT '1'`);
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" ADD "version_of" uuid`);
    await queryRunner.query(
      `CREATE INDEX "files_versions_idx" ON "metadata"."files"  ("version_of", "version") WHERE version_of IS NOT NULL`,
    );
    // Earlier versions share their file's id and stay out of listings, the trash and its sweep.
    await queryRunner.query(`DROP INDEX "metadata"."files_owner_public_id_unique"`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "files_owner_public_id_unique" ON "metadata"."files" ("owner_id", "public_id") WHERE version_of IS NULL`,
    );
    await queryRunner.query(`DROP INDEX "metadata"."files_owner_listing_idx"`);
    await queryRunner.query(
      `CREATE INDEX "files_owner_listing_idx" ON "metadata"."files" ("owner_id", "uploaded_at", "id") WHERE deleted_at IS NULL AND version_of IS NULL`,
    );
    await queryRunner.query(`DROP INDEX "metadata"."files_owner_trash_idx"`);
    await queryRunner.query(
      `CREATE INDEX "files_owner_trash_idx" ON "metadata"."files" ("owner_id", "deleted_at", "id") WHERE deleted_at IS NOT NULL AND version_of IS NULL`,
    );
    await queryRunner.query(`DROP INDEX "metadata"."files_purge_idx"`);
    await queryRunner.query(
      `CREATE INDEX "files_purge_idx" ON "metadata"."files" ("deleted_at") WHERE deleted_at IS NOT NULL AND version_of IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Earlier versions cannot be kept: their chunks are cut loose for collection, their bytes refunded.
    await queryRunner.query(
      `UPDATE "metadata"."chunks" SET "file_id" = NULL, "upload_id" = NULL WHERE "file_id" IN (SELECT "id" FROM "metadata"."files" WHERE "version_of" IS NOT NULL)`,
    );
    await queryRunner.query(
      `UPDATE "metadata"."user_quotas" q SET "used_bytes" = GREATEST(q."used_bytes" - v."bytes", 0)
       FROM (SELECT "owner_id", sum("size_bytes") AS "bytes" FROM "metadata"."files" WHERE "version_of" IS NOT NULL AND "deleted_at" IS NULL GROUP BY "owner_id") v
       WHERE q."user_id" = v."owner_id"`,
    );
    await queryRunner.query(`DELETE FROM "metadata"."files" WHERE "version_of" IS NOT NULL`);
    await queryRunner.query(`DROP INDEX "metadata"."files_purge_idx"`);
    await queryRunner.query(`CREATE INDEX "files_purge_idx" ON "metadata"."files" ("deleted_at") WHERE deleted_at IS NOT NULL`);
    await queryRunner.query(`DROP INDEX "metadata"."files_owner_trash_idx"`);
    await queryRunner.query(
      `CREATE INDEX "files_owner_trash_idx" ON "metadata"."files" ("owner_id", "deleted_at", "id") WHERE deleted_at IS NOT NULL`,
    );
    await queryRunner.query(`DROP INDEX "metadata"."files_owner_listing_idx"`);
    await queryRunner.query(
      `CREATE INDEX "files_owner_listing_idx" ON "metadata"."files" ("owner_id", "uploaded_at", "id") WHERE deleted_at IS NULL`,
    );
    await queryRunner.query(`DROP INDEX "metadata"."files_owner_public_id_unique"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "files_owner_public_id_unique" ON "metadata"."files" ("owner_id", "public_id")`);
    await queryRunner.query(`DROP INDEX "metadata"."files_versions_idx"`);
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" DROP COLUMN "version_of"`);
    await queryRunner.query(`ALTER TABLE "metadata"."files" DROP COLUMN "version"`);
    await queryRunner.query(`ALTER TABLE "metadata"."files" DROP COLUMN "version_of"`);
  }
}
