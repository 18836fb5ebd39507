import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit chain's own keys. The row is made by the first process that needs it, which holds the
 * master key that wraps them (a migration does not); see AuditChainKeys for existing chains.
 */
export class AddAuditChainKeys1796236227213 implements MigrationInterface {
  name = 'AddAuditChainKeys1796236227213';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "metadata"."audit_chain_keys" ("one_row" boolean NOT NULL DEFAULT true, "wrapped_keys" bytea NOT NULL, "master_key_id" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "audit_chain_keys_one_row_check" CHECK ("one_row"), CONSTRAINT "PK_a27ac16e304f268fb4edb0c598d" PRIMARY KEY ("one_row"))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "metadata"."audit_chain_keys"`);
  }
}
