import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddOpenUploadsByOwnerIndex1796171341605 implements MigrationInterface {
  name = 'AddOpenUploadsByOwnerIndex1796171341605';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "uploads_open_owner_idx" ON "metadata"."uploads"  ("owner_id", "created_at") WHERE status = 'open'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "metadata"."uploads_open_owner_idx"`);
  }
}
