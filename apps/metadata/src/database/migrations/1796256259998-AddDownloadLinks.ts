import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddDownloadLinks1796256259998 implements MigrationInterface {
  name = 'AddDownloadLinks1796256259998';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "metadata"."download_links" ("id" uuid NOT NULL, "file_id" uuid NOT NULL, "token_sha256" bytea NOT NULL, "password_hash" text, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_d7faf2620babb1adb81d2075e36" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "download_links_token_unique" ON "metadata"."download_links"  ("token_sha256") `,
    );
    await queryRunner.query(`CREATE INDEX "download_links_expiry_idx" ON "metadata"."download_links"  ("expires_at") `);
    await queryRunner.query(`CREATE INDEX "download_links_file_idx" ON "metadata"."download_links"  ("file_id", "created_at") `);
    await queryRunner.query(
      `ALTER TABLE "metadata"."download_links" ADD CONSTRAINT "FK_93d7934c268f2442940b4626d3c" FOREIGN KEY ("file_id") REFERENCES "metadata"."files"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metadata"."download_links" DROP CONSTRAINT "FK_93d7934c268f2442940b4626d3c"`);
    await queryRunner.query(`DROP INDEX "metadata"."download_links_file_idx"`);
    await queryRunner.query(`DROP INDEX "metadata"."download_links_expiry_idx"`);
    await queryRunner.query(`DROP INDEX "metadata"."download_links_token_unique"`);
    await queryRunner.query(`DROP TABLE "metadata"."download_links"`);
  }
}
