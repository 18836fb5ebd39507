import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAuditLog1795903507049 implements MigrationInterface {
  name = 'CreateAuditLog1795903507049';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "metadata"."audit_log" ("id" BIGSERIAL NOT NULL, "event_id" uuid NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL, "operation" text NOT NULL, "status" text NOT NULL, "error_code" text, "user_id" uuid, "username" text, "client_address" text, "user_agent" text, "file_id" uuid, "filename" text, "size_bytes" bigint, "details" jsonb NOT NULL DEFAULT '{}', CONSTRAINT "UQ_c37ba8970192420a944eaef393d" UNIQUE ("event_id"), CONSTRAINT "audit_log_status_check" CHECK ("status" IN ('success', 'failure')), CONSTRAINT "PK_07fefa57f7f5ab8fc3f52b3ed0b" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "audit_log_time_idx" ON "metadata"."audit_log"  ("occurred_at") `);
    await queryRunner.query(`CREATE INDEX "audit_log_user_time_idx" ON "metadata"."audit_log"  ("user_id", "occurred_at") `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "metadata"."audit_log_user_time_idx"`);
    await queryRunner.query(`DROP INDEX "metadata"."audit_log_time_idx"`);
    await queryRunner.query(`DROP TABLE "metadata"."audit_log"`);
  }
}
