import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GDPR erasure: the account an admin's act was about gets its own audit column, with its own
 * sealed digest so that erasing it leaves the rest of the row verifiable; refused registrations
 * of a name are found by an index; and an erased user's key row is deleted rather than kept as a tombstone
 * (which named the user). Tombstones left by earlier releases go here.
 */
export class AddAccountErasure1796240869869 implements MigrationInterface {
  name = 'AddAccountErasure1796240869869';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM "metadata"."user_keys" WHERE "wrapped_key" IS NULL`);
    await queryRunner.query(`ALTER TABLE "metadata"."user_keys" DROP CONSTRAINT "user_keys_master_key_check"`);
    await queryRunner.query(`ALTER TABLE "metadata"."user_keys" DROP CONSTRAINT "user_keys_destroyed_check"`);
    await queryRunner.query(`ALTER TABLE "metadata"."user_keys" DROP COLUMN "destroyed_at"`);
    await queryRunner.query(`ALTER TABLE "metadata"."audit_log" ADD "subject_user_id" uuid`);
    await queryRunner.query(`ALTER TABLE "metadata"."audit_log" ADD "subject_digest" bytea`);
    await queryRunner.query(
      `CREATE INDEX "audit_log_nameless_username_idx" ON "metadata"."audit_log" (lower("username")) WHERE "user_id" IS NULL`,
    );
    await queryRunner.query(`ALTER TABLE "metadata"."user_keys" ALTER COLUMN "wrapped_key" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "metadata"."user_keys" ALTER COLUMN "master_key_id" SET NOT NULL`);
    await queryRunner.query(
      `CREATE INDEX "audit_log_subject_idx" ON "metadata"."audit_log"  ("subject_user_id") WHERE "subject_user_id" IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "metadata"."audit_log_subject_idx"`);
    await queryRunner.query(`DROP INDEX "metadata"."audit_log_nameless_username_idx"`);
    await queryRunner.query(`ALTER TABLE "metadata"."audit_log" DROP COLUMN "subject_digest"`);
    await queryRunner.query(`ALTER TABLE "metadata"."user_keys" ALTER COLUMN "master_key_id" DROP NOT NULL`);
    await queryRunner.query(`ALTER TABLE "metadata"."user_keys" ALTER COLUMN "wrapped_key" DROP NOT NULL`);
    await queryRunner.query(`ALTER TABLE "metadata"."audit_log" DROP COLUMN "subject_user_id"`);
    await queryRunner.query(`ALTER TABLE "metadata"."user_keys" ADD "destroyed_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `ALTER TABLE "metadata"."user_keys" ADD CONSTRAINT "user_keys_destroyed_check" CHECK (((wrapped_key IS NULL) = (destroyed_at IS NOT NULL)))`,
    );
    await queryRunner.query(
      `ALTER TABLE "metadata"."user_keys" ADD CONSTRAINT "user_keys_master_key_check" CHECK (((wrapped_key IS NULL) = (master_key_id IS NULL)))`,
    );
  }
}
