import type { MigrationInterface, QueryRunner } from 'typeorm';

/** File ids become each owner's own namespace; existing files keep theirs (the public id is the row id). */
export class PerOwnerFileIds1796192774215 implements MigrationInterface {
  name = 'PerOwnerFileIds1796192774215';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metadata"."files" ADD "public_id" uuid`);
    await queryRunner.query(`UPDATE "metadata"."files" SET "public_id" = "id"`);
    await queryRunner.query(`ALTER TABLE "metadata"."files" ALTER COLUMN "public_id" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" ADD "public_file_id" uuid`);
    await queryRunner.query(`UPDATE "metadata"."uploads" SET "public_file_id" = "file_id"`);
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" ALTER COLUMN "public_file_id" SET NOT NULL`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "files_owner_public_id_unique" ON "metadata"."files"  ("owner_id", "public_id") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uploads_open_owner_public_file_id_unique" ON "metadata"."uploads"  ("owner_id", "public_file_id") WHERE status = 'open'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "metadata"."uploads_open_owner_public_file_id_unique"`);
    await queryRunner.query(`DROP INDEX "metadata"."files_owner_public_id_unique"`);
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" DROP COLUMN "public_file_id"`);
    await queryRunner.query(`ALTER TABLE "metadata"."files" DROP COLUMN "public_id"`);
  }
}
