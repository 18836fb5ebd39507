import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddRepairDetection1795912405117 implements MigrationInterface {
  name = 'AddRepairDetection1795912405117';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metadata"."chunks" ADD "ok_replicas" integer NOT NULL DEFAULT '0'`);
    await queryRunner.query(
      `UPDATE "metadata"."chunks" c SET "ok_replicas" = s.n
       FROM (SELECT "chunk_id", count(*) AS n FROM "metadata"."chunk_replicas" WHERE "state" = 'ok' GROUP BY "chunk_id") s
       WHERE s."chunk_id" = c."id"`,
    );
    // Kept by the database in the statement that changes a replica, whichever code path it is.
    await queryRunner.query(
      `CREATE FUNCTION "metadata"."chunk_replicas_count_ok"() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'UPDATE' THEN
           IF OLD.chunk_id = NEW.chunk_id AND (OLD.state = 'ok') = (NEW.state = 'ok') THEN RETURN NULL; END IF;
         END IF;
         IF TG_OP <> 'INSERT' THEN
           IF OLD.state = 'ok' THEN
             UPDATE "metadata"."chunks" SET "ok_replicas" = "ok_replicas" - 1 WHERE "id" = OLD.chunk_id;
           END IF;
         END IF;
         IF TG_OP <> 'DELETE' THEN
           IF NEW.state = 'ok' THEN
             UPDATE "metadata"."chunks" SET "ok_replicas" = "ok_replicas" + 1 WHERE "id" = NEW.chunk_id;
           END IF;
         END IF;
         RETURN NULL;
       END $$`,
    );
    await queryRunner.query(
      `CREATE TRIGGER "chunk_replicas_count_ok" AFTER INSERT OR UPDATE OR DELETE ON "metadata"."chunk_replicas"
       FOR EACH ROW EXECUTE FUNCTION "metadata"."chunk_replicas_count_ok"()`,
    );
    await queryRunner.query(
      `CREATE INDEX "chunks_under_replicated_idx" ON "metadata"."chunks"  ("ok_replicas", "id") WHERE file_id IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "chunk_replicas_broken_idx" ON "metadata"."chunk_replicas"  ("chunk_id") WHERE state <> 'ok'`,
    );
    await queryRunner.query(
      `CREATE INDEX "chunk_replicas_node_chunk_idx" ON "metadata"."chunk_replicas"  ("node_id", "chunk_id") `,
    );
    await queryRunner.query(`DROP INDEX "metadata"."chunk_replicas_node_idx"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "chunk_replicas_node_idx" ON "metadata"."chunk_replicas"  ("node_id") `);
    await queryRunner.query(`DROP INDEX "metadata"."chunk_replicas_node_chunk_idx"`);
    await queryRunner.query(`DROP INDEX "metadata"."chunk_replicas_broken_idx"`);
    await queryRunner.query(`DROP INDEX "metadata"."chunks_under_replicated_idx"`);
    await queryRunner.query(`DROP TRIGGER "chunk_replicas_count_ok" ON "metadata"."chunk_replicas"`);
    await queryRunner.query(`DROP FUNCTION "metadata"."chunk_replicas_count_ok"()`);
    await queryRunner.query(`ALTER TABLE "metadata"."chunks" DROP COLUMN "ok_replicas"`);
  }
}
