import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddTrash1795909532021 implements MigrationInterface {
  name = 'AddTrash1795909532021';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "chunks_orphan_idx" ON "metadata"."chunks"  ("id") WHERE file_id IS NULL AND upload_id IS NULL`,
    );
    await queryRunner.query(`CREATE INDEX "files_purge_idx" ON "metadata"."files"  ("deleted_at") WHERE deleted_at IS NOT NULL`);
    await queryRunner.query(
      `CREATE INDEX "files_owner_trash_idx" ON "metadata"."files"  ("owner_id", "deleted_at", "id") WHERE deleted_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "metadata"."files_owner_trash_idx"`);
    await queryRunner.query(`DROP INDEX "metadata"."files_purge_idx"`);
    await queryRunner.query(`DROP INDEX "metadata"."chunks_orphan_idx"`);
  }
}
