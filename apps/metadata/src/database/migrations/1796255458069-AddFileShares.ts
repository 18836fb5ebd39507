import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddFileShares1796255458069 implements MigrationInterface {
  name = 'AddFileShares1796255458069';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "metadata"."file_shares" ("file_id" uuid NOT NULL, "grantee_id" uuid NOT NULL, "grantee_username" text NOT NULL, "owner_username" text NOT NULL, "permission" text NOT NULL DEFAULT 'read', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "file_shares_permission_check" CHECK ("permission" IN ('read')), CONSTRAINT "PK_11e1c23c2dbb3b610782534fd90" PRIMARY KEY ("file_id", "grantee_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "file_shares_grantee_idx" ON "metadata"."file_shares"  ("grantee_id", "created_at") `);
    await queryRunner.query(
      `ALTER TABLE "metadata"."file_shares" ADD CONSTRAINT "FK_8ad4e87c25a7c2c0e1b474a500e" FOREIGN KEY ("file_id") REFERENCES "metadata"."files"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metadata"."file_shares" DROP CONSTRAINT "FK_8ad4e87c25a7c2c0e1b474a500e"`);
    await queryRunner.query(`DROP INDEX "metadata"."file_shares_grantee_idx"`);
    await queryRunner.query(`DROP TABLE "metadata"."file_shares"`);
  }
}
