import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddEncryptionAtRest1795910238031 implements MigrationInterface {
  name = 'AddEncryptionAtRest1795910238031';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metadata"."files" ADD "chunk_overhead" integer NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "metadata"."files" ADD "wrapped_data_key" bytea`);
    await queryRunner.query(`ALTER TABLE "metadata"."files" ADD "master_key_id" text`);
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" ADD "chunk_overhead" integer NOT NULL DEFAULT '0'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" DROP COLUMN "chunk_overhead"`);
    await queryRunner.query(`ALTER TABLE "metadata"."files" DROP COLUMN "master_key_id"`);
    await queryRunner.query(`ALTER TABLE "metadata"."files" DROP COLUMN "wrapped_data_key"`);
    await queryRunner.query(`ALTER TABLE "metadata"."files" DROP COLUMN "chunk_overhead"`);
  }
}
