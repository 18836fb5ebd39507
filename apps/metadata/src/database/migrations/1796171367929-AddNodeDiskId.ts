import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddNodeDiskId1796171367929 implements MigrationInterface {
  name = 'AddNodeDiskId1796171367929';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metadata"."storage_nodes" ADD "disk_id" text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metadata"."storage_nodes" DROP COLUMN "disk_id"`);
  }
}
