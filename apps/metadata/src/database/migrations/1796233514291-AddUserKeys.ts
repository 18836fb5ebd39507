import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Users' keys, and which key wraps each file's data key. Existing files keep their data key
 * wrapped by the master key directly (the default, false), which the gateways still read;
 * `npm run keys:rotate-master` moves them under their owner's key (it holds the master key,
 * a migration does not).
 */
export class AddUserKeys1796233514291 implements MigrationInterface {
  name = 'AddUserKeys1796233514291';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "metadata"."user_keys" ("user_id" uuid NOT NULL, "wrapped_key" bytea, "master_key_id" text, "destroyed_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "user_keys_master_key_check" CHECK (("wrapped_key" IS NULL) = ("master_key_id" IS NULL)), CONSTRAINT "user_keys_destroyed_check" CHECK (("wrapped_key" IS NULL) = ("destroyed_at" IS NOT NULL)), CONSTRAINT "PK_03bc99d540d17f2d6def72de3ae" PRIMARY KEY ("user_id"))`,
    );
    await queryRunner.query(`ALTER TABLE "metadata"."files" ADD "wrapped_by_user_key" boolean NOT NULL DEFAULT false`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metadata"."files" DROP COLUMN "wrapped_by_user_key"`);
    await queryRunner.query(`DROP TABLE "metadata"."user_keys"`);
  }
}
