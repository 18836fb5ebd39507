import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Recovery codes get a salt each; the codes users hold keep working, since a stored
 * SHA-256(code) becomes SHA-256(salt ‖ SHA-256(code)). Signing keys get the end of their
 * verification, and lose their private half when retired. (Sealing secrets under the master key
 * happens at start: a migration does not know the key.)
 */
export class SealSecretsAndRotateKeys1796180991179 implements MigrationInterface {
  name = 'SealSecretsAndRotateKeys1796180991179';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "auth"."recovery_codes" ADD "salt" text`);
    // 122 random bits per row (gen_random_uuid is core PostgreSQL); then the hash is salted with it.
    await queryRunner.query(`UPDATE "auth"."recovery_codes" SET "salt" = replace(gen_random_uuid()::text, '-', '')`);
    await queryRunner.query(
      `UPDATE "auth"."recovery_codes" SET "code_hash" = encode(sha256(decode("salt", 'hex') || decode("code_hash", 'hex')), 'hex')`,
    );
    await queryRunner.query(`ALTER TABLE "auth"."recovery_codes" ALTER COLUMN "salt" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "auth"."signing_keys" ADD "verify_until" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "auth"."signing_keys" ALTER COLUMN "private_key_pem" DROP NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Retired keys have no private half to restore; salted codes cannot be unsalted (new ones are needed).
    await queryRunner.query(`DELETE FROM "auth"."signing_keys" WHERE "private_key_pem" IS NULL`);
    await queryRunner.query(`ALTER TABLE "auth"."signing_keys" ALTER COLUMN "private_key_pem" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "auth"."signing_keys" DROP COLUMN "verify_until"`);
    await queryRunner.query(`DELETE FROM "auth"."recovery_codes"`);
    await queryRunner.query(`ALTER TABLE "auth"."recovery_codes" DROP COLUMN "salt"`);
  }
}
