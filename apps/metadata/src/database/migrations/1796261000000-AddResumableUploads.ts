import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddResumableUploads1796261000000 implements MigrationInterface {
  name = 'AddResumableUploads1796261000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" ADD "resumable" boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" ADD "expires_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" ADD "wrapped_data_key" bytea`);
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" ADD "expected_sha256" text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" DROP COLUMN "expected_sha256"`);
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" DROP COLUMN "wrapped_data_key"`);
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" DROP COLUMN "expires_at"`);
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" DROP COLUMN "resumable"`);
  }
}
