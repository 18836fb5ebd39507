import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddUserFileCount1795905702089 implements MigrationInterface {
  name = 'AddUserFileCount1795905702089';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metadata"."user_quotas" ADD "file_count" bigint NOT NULL DEFAULT '0'`);
    await queryRunner.query(
      `ALTER TABLE "metadata"."user_quotas" ADD CONSTRAINT "user_quotas_file_count_check" CHECK ("file_count" >= 0)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metadata"."user_quotas" DROP CONSTRAINT "user_quotas_file_count_check"`);
    await queryRunner.query(`ALTER TABLE "metadata"."user_quotas" DROP COLUMN "file_count"`);
  }
}
