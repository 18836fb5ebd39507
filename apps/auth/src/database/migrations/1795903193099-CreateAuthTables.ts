import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAuthTables1795903193099 implements MigrationInterface {
  name = 'CreateAuthTables1795903193099';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "auth"."users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "username" text NOT NULL, "username_key" text NOT NULL, "email" text NOT NULL, "email_key" text NOT NULL, "password_hash" text NOT NULL, "role" text NOT NULL DEFAULT 'basic', "active" boolean NOT NULL DEFAULT true, "totp_secret" text, "totp_enabled_at" TIMESTAMP WITH TIME ZONE, "totp_last_step" bigint, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "users_email_key_unique" UNIQUE ("email_key"), CONSTRAINT "users_username_key_unique" UNIQUE ("username_key"), CONSTRAINT "users_role_check" CHECK ("role" IN ('basic', 'premium', 'admin')), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "auth"."recovery_codes" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "code_hash" text NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_0723b9e53961e799027d7f7ba32" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "recovery_codes_user_idx" ON "auth"."recovery_codes"  ("user_id") `);
    await queryRunner.query(
      `CREATE TABLE "auth"."refresh_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "family_id" uuid NOT NULL, "user_id" uuid NOT NULL, "token_hash" text NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_a7838d2ba25be1342091b6695f1" UNIQUE ("token_hash"), CONSTRAINT "PK_7d8bee0204106019488c4c50ffa" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "refresh_tokens_family_idx" ON "auth"."refresh_tokens"  ("family_id") `);
    await queryRunner.query(`CREATE INDEX "refresh_tokens_user_idx" ON "auth"."refresh_tokens"  ("user_id") `);
    await queryRunner.query(
      `CREATE TABLE "auth"."signing_keys" ("key_id" text NOT NULL, "algorithm" text NOT NULL, "public_key_pem" text NOT NULL, "private_key_pem" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "retired_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_e02f744a41c3ffa8340aa850638" PRIMARY KEY ("key_id"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "auth"."recovery_codes" ADD CONSTRAINT "FK_fb82b2ac740ca095b617afad031" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "auth"."refresh_tokens" ADD CONSTRAINT "FK_3ddc983c5f7bcf132fd8732c3f4" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "auth"."refresh_tokens" DROP CONSTRAINT "FK_3ddc983c5f7bcf132fd8732c3f4"`);
    await queryRunner.query(`ALTER TABLE "auth"."recovery_codes" DROP CONSTRAINT "FK_fb82b2ac740ca095b617afad031"`);
    await queryRunner.query(`DROP TABLE "auth"."signing_keys"`);
    await queryRunner.query(`DROP INDEX "auth"."refresh_tokens_user_idx"`);
    await queryRunner.query(`DROP INDEX "auth"."refresh_tokens_family_idx"`);
    await queryRunner.query(`DROP TABLE "auth"."refresh_tokens"`);
    await queryRunner.query(`DROP INDEX "auth"."recovery_codes_user_idx"`);
    await queryRunner.query(`DROP TABLE "auth"."recovery_codes"`);
    await queryRunner.query(`DROP TABLE "auth"."users"`);
  }
}
