import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddUploadIndexUnique1796261500000 implements MigrationInterface {
  name = 'AddUploadIndexUnique1796261500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE UNIQUE INDEX "chunks_upload_index_unique" ON "metadata"."chunks" ("upload_id", "index") WHERE file_id IS NULL AND upload_id IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "metadata"."chunks_upload_index_unique"`);
  }
}
