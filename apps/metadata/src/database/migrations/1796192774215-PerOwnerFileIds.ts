import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * File ids become each owner's own namespace; existing files keep theirs (the public id is the
 * row id). During a rolling upgrade, replicas of the previous version still insert rows without
 * the new columns: a trigger fills them in as the row id, as the new code does for generated ids.
 * A later release drops the triggers once no such replica can be left.
 */
export class PerOwnerFileIds1796192774215 implements MigrationInterface {
  name = 'PerOwnerFileIds1796192774215';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metadata"."files" ADD "public_id" uuid`);
    await queryRunner.query(`UPDATE "metadata"."files" SET "public_id" = "id"`);
    await queryRunner.query(`ALTER TABLE "metadata"."files" ALTER COLUMN "public_id" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" ADD "public_file_id" uuid`);
    await queryRunner.query(`UPDATE "metadata"."uploads" SET "public_file_id" = "file_id"`);
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" ALTER COLUMN "public_file_id" SET NOT NULL`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "files_owner_public_id_unique" ON "metadata"."files"  ("owner_id", "public_id") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uploads_open_owner_public_file_id_unique" ON "metadata"."uploads"  ("owner_id", "public_file_id") WHERE status = 'open'`,
    );
    await queryRunner.query(`CREATE FUNCTION "metadata"."files_public_id_default"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN NEW.public_id := COALESCE(NEW.public_id, NEW.id); RETURN NEW; END $$`);
    await queryRunner.query(`CREATE TRIGGER "files_public_id_default" BEFORE INSERT ON "metadata"."files"
      FOR EACH ROW EXECUTE FUNCTION "metadata"."files_public_id_default"()`);
    await queryRunner.query(`CREATE FUNCTION "metadata"."uploads_public_file_id_default"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN NEW.public_file_id := COALESCE(NEW.public_file_id, NEW.file_id); RETURN NEW; END $$`);
    await queryRunner.query(`CREATE TRIGGER "uploads_public_file_id_default" BEFORE INSERT ON "metadata"."uploads"
      FOR EACH ROW EXECUTE FUNCTION "metadata"."uploads_public_file_id_default"()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "uploads_public_file_id_default" ON "metadata"."uploads"`);
    await queryRunner.query(`DROP FUNCTION "metadata"."uploads_public_file_id_default"()`);
    await queryRunner.query(`DROP TRIGGER "files_public_id_default" ON "metadata"."files"`);
    await queryRunner.query(`DROP FUNCTION "metadata"."files_public_id_default"()`);
    await queryRunner.query(`DROP INDEX "metadata"."uploads_open_owner_public_file_id_unique"`);
    await queryRunner.query(`DROP INDEX "metadata"."files_owner_public_id_unique"`);
    await queryRunner.query(`ALTER TABLE "metadata"."uploads" DROP COLUMN "public_file_id"`);
    await queryRunner.query(`ALTER TABLE "metadata"."files" DROP COLUMN "public_id"`);
  }
}
