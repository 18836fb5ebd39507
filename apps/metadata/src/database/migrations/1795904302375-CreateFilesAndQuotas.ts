import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateFilesAndQuotas1795904302375 implements MigrationInterface {
  name = 'CreateFilesAndQuotas1795904302375';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "metadata"."chunks" ("id" text NOT NULL, "upload_id" uuid, "file_id" uuid, "index" integer NOT NULL, "size_bytes" bigint NOT NULL, "sha256" text NOT NULL, "planned_node_ids" text array NOT NULL DEFAULT '{}', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a306e60b8fdf6e7de1be4be1e6a" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "chunks_upload_idx" ON "metadata"."chunks"  ("upload_id") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "chunks_file_index_unique" ON "metadata"."chunks"  ("file_id", "index") WHERE file_id IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE TABLE "metadata"."chunk_replicas" ("chunk_id" text NOT NULL, "node_id" text NOT NULL, "state" text NOT NULL DEFAULT 'ok', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "verified_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chunk_replicas_state_check" CHECK ("state" IN ('ok', 'missing', 'corrupt')), CONSTRAINT "PK_04f73612b6a12a14bfbecdb5d35" PRIMARY KEY ("chunk_id", "node_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "chunk_replicas_node_idx" ON "metadata"."chunk_replicas"  ("node_id") `);
    await queryRunner.query(
      `CREATE TABLE "metadata"."files" ("id" uuid NOT NULL, "owner_id" uuid NOT NULL, "filename" text NOT NULL, "size_bytes" bigint NOT NULL, "sha256" text NOT NULL, "content_type" text NOT NULL DEFAULT 'application/octet-stream', "chunk_count" integer NOT NULL, "chunk_size" bigint NOT NULL, "uploaded_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "deleted_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_6c16b9093a142e0e7613b04a3d9" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "files_owner_listing_idx" ON "metadata"."files"  ("owner_id", "uploaded_at", "id") WHERE deleted_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE TABLE "metadata"."user_quotas" ("user_id" uuid NOT NULL, "role" text NOT NULL DEFAULT 'basic', "quota_bytes" bigint, "used_bytes" bigint NOT NULL DEFAULT '0', "reserved_bytes" bigint NOT NULL DEFAULT '0', "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "user_quotas_reserved_check" CHECK ("reserved_bytes" >= 0), CONSTRAINT "user_quotas_used_check" CHECK ("used_bytes" >= 0), CONSTRAINT "PK_992159a04333fbc8ddc5eac9539" PRIMARY KEY ("user_id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "metadata"."uploads" ("id" uuid NOT NULL, "owner_id" uuid NOT NULL, "file_id" uuid NOT NULL, "filename" text NOT NULL, "content_type" text NOT NULL DEFAULT 'application/octet-stream', "status" text NOT NULL DEFAULT 'open', "reserved_bytes" bigint NOT NULL DEFAULT '0', "received_bytes" bigint NOT NULL DEFAULT '0', "declared_size" bigint NOT NULL DEFAULT '-1', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "uploads_reserved_check" CHECK ("reserved_bytes" >= 0), CONSTRAINT "uploads_status_check" CHECK ("status" IN ('open', 'committed', 'aborted')), CONSTRAINT "PK_d1781d1eedd7459314f60f39bd3" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "uploads_open_idle_idx" ON "metadata"."uploads"  ("updated_at") WHERE status = 'open'`);
    // Case-insensitive substring search of filenames (ListFiles filter); not expressible in TypeORM.
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await queryRunner.query(
      `CREATE INDEX "files_filename_trgm_idx" ON "metadata"."files" USING gin (lower("filename") gin_trgm_ops) WHERE "deleted_at" IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "metadata"."files_filename_trgm_idx"`);
    await queryRunner.query(`DROP INDEX "metadata"."uploads_open_idle_idx"`);
    await queryRunner.query(`DROP TABLE "metadata"."uploads"`);
    await queryRunner.query(`DROP TABLE "metadata"."user_quotas"`);
    await queryRunner.query(`DROP INDEX "metadata"."files_owner_listing_idx"`);
    await queryRunner.query(`DROP TABLE "metadata"."files"`);
    await queryRunner.query(`DROP INDEX "metadata"."chunk_replicas_node_idx"`);
    await queryRunner.query(`DROP TABLE "metadata"."chunk_replicas"`);
    await queryRunner.query(`DROP INDEX "metadata"."chunks_file_index_unique"`);
    await queryRunner.query(`DROP INDEX "metadata"."chunks_upload_idx"`);
    await queryRunner.query(`DROP TABLE "metadata"."chunks"`);
  }
}
