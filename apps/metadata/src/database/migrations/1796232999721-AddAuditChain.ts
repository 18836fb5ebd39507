import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log becomes a hash chain. Rows already written stay unsealed here: the sealer chains
 * them, oldest first, the first time metadata runs with this release.
 */
export class AddAuditChain1796232999721 implements MigrationInterface {
  name = 'AddAuditChain1796232999721';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "metadata"."audit_checkpoints" ("id" BIGSERIAL NOT NULL, "chain_seq" bigint NOT NULL, "mac" bytea NOT NULL, "pruned_before" TIMESTAMP WITH TIME ZONE NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "signature" bytea NOT NULL, CONSTRAINT "PK_ec62ec0b7b181580b1fa64e1167" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "audit_checkpoints_chain_seq_unique" ON "metadata"."audit_checkpoints"  ("chain_seq") `,
    );
    await queryRunner.query(
      `ALTER TABLE "metadata"."audit_log" ADD "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()`,
    );
    await queryRunner.query(`ALTER TABLE "metadata"."audit_log" ADD "chain_seq" bigint`);
    await queryRunner.query(`ALTER TABLE "metadata"."audit_log" ADD "mac" bytea`);
    await queryRunner.query(`ALTER TABLE "metadata"."audit_log" ADD "personal_digest" bytea`);
    await queryRunner.query(`ALTER TABLE "metadata"."audit_log" ADD "erased_as" uuid`);
    await queryRunner.query(`CREATE INDEX "audit_log_unsealed_idx" ON "metadata"."audit_log"  ("id") WHERE "chain_seq" IS NULL`);
    await queryRunner.query(`CREATE UNIQUE INDEX "audit_log_chain_seq_unique" ON "metadata"."audit_log"  ("chain_seq") `);
    await queryRunner.query(
      `ALTER TABLE "metadata"."audit_log" ADD CONSTRAINT "audit_log_sealed_check" CHECK (("chain_seq" IS NULL AND "mac" IS NULL AND "personal_digest" IS NULL) OR ("chain_seq" IS NOT NULL AND "mac" IS NOT NULL AND "personal_digest" IS NOT NULL))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metadata"."audit_log" DROP CONSTRAINT "audit_log_sealed_check"`);
    await queryRunner.query(`DROP INDEX "metadata"."audit_log_chain_seq_unique"`);
    await queryRunner.query(`DROP INDEX "metadata"."audit_log_unsealed_idx"`);
    await queryRunner.query(`ALTER TABLE "metadata"."audit_log" DROP COLUMN "erased_as"`);
    await queryRunner.query(`ALTER TABLE "metadata"."audit_log" DROP COLUMN "personal_digest"`);
    await queryRunner.query(`ALTER TABLE "metadata"."audit_log" DROP COLUMN "mac"`);
    await queryRunner.query(`ALTER TABLE "metadata"."audit_log" DROP COLUMN "chain_seq"`);
    await queryRunner.query(`ALTER TABLE "metadata"."audit_log" DROP COLUMN "recorded_at"`);
    await queryRunner.query(`DROP INDEX "metadata"."audit_checkpoints_chain_seq_unique"`);
    await queryRunner.query(`DROP TABLE "metadata"."audit_checkpoints"`);
  }
}
