import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateStorageNodes1795901717457 implements MigrationInterface {
  name = 'CreateStorageNodes1795901717457';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "metadata"."storage_nodes" ("node_id" text NOT NULL, "address" text NOT NULL, "capacity_bytes" bigint NOT NULL DEFAULT '0', "used_bytes" bigint NOT NULL DEFAULT '0', "chunk_count" bigint NOT NULL DEFAULT '0', "state" text NOT NULL DEFAULT 'active', "last_heartbeat_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "registered_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "storage_nodes_state_check" CHECK ("state" IN ('active', 'draining', 'drained')), CONSTRAINT "PK_bd856300bf993c3cdd94e857dfd" PRIMARY KEY ("node_id"))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "metadata"."storage_nodes"`);
  }
}
