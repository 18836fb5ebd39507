import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AccountSessions1796180939383 implements MigrationInterface {
  name = 'AccountSessions1796180939383';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "auth"."password_resets" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "token_hash" text NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_323290a9239ad3d397ad78018ec" UNIQUE ("token_hash"), CONSTRAINT "PK_4816377aa98211c1de34469e742" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "password_resets_user_idx" ON "auth"."password_resets"  ("user_id") `);
    await queryRunner.query(
      `CREATE TABLE "auth"."sign_ins" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "device" text NOT NULL DEFAULT '', "client_address" text NOT NULL DEFAULT '', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_used_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_4579b825694df5090ed8a003735" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "sign_ins_user_idx" ON "auth"."sign_ins"  ("user_id") `);
    // Sign-ins of the tokens issued before this table: one per live refresh family, aged from its first token.
    await queryRunner.query(`INSERT INTO "auth"."sign_ins" ("id", "user_id", "created_at", "last_used_at", "expires_at")
      SELECT "family_id", min("user_id"::text)::uuid, min("created_at"), max("created_at"), min("created_at") + interval '30 days'
      FROM "auth"."refresh_tokens" WHERE "revoked_at" IS NULL GROUP BY "family_id"`);
    await queryRunner.query(
      `ALTER TABLE "auth"."password_resets" ADD CONSTRAINT "FK_f7a4c3bc48f24df007936d217be" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "auth"."sign_ins" ADD CONSTRAINT "FK_c4322fc39fcd812ec976015dab3" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "auth"."sign_ins" DROP CONSTRAINT "FK_c4322fc39fcd812ec976015dab3"`);
    await queryRunner.query(`ALTER TABLE "auth"."password_resets" DROP CONSTRAINT "FK_f7a4c3bc48f24df007936d217be"`);
    await queryRunner.query(`DROP INDEX "auth"."sign_ins_user_idx"`);
    await queryRunner.query(`DROP TABLE "auth"."sign_ins"`);
    await queryRunner.query(`DROP INDEX "auth"."password_resets_user_idx"`);
    await queryRunner.query(`DROP TABLE "auth"."password_resets"`);
  }
}
