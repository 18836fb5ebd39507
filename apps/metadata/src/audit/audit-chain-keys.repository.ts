import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { affectedRows } from '@cloudstore/database';
import type { DataSource } from 'typeorm';

/** The audit chain's keys as stored: wrapped by the master key of `masterKeyId`. */
export interface StoredAuditChainKeys {
  readonly wrappedKeys: Buffer;
  readonly masterKeyId: string;
}

/** SQL of the audit chain's one row of keys, created and re-wrapped as users' keys are. */
@Injectable()
export class AuditChainKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The chain's keys, stored from `proposed` if there were none: of concurrent first calls one
   * insert wins and every call answers its keys. Not inside a transaction: the read after the
   * insert must see keys another call committed.
   */
  async ensure(proposed: StoredAuditChainKeys): Promise<StoredAuditChainKeys> {
    await this.dataSource.query(
      `INSERT INTO "metadata"."audit_chain_keys" ("wrapped_keys", "master_key_id") VALUES ($1, $2)
       ON CONFLICT ("one_row") DO NOTHING`,
      [proposed.wrappedKeys, proposed.masterKeyId],
    );
    const stored = await this.find();
    if (!stored) throw new Error('the audit chain keys vanished while they were created');
    return stored;
  }

  async find(): Promise<StoredAuditChainKeys | undefined> {
    const [row] = await this.dataSource.query<{ wrapped_keys: Buffer; master_key_id: string }[]>(
      `SELECT "wrapped_keys", "master_key_id" FROM "metadata"."audit_chain_keys"`,
    );
    return row && { wrappedKeys: row.wrapped_keys, masterKeyId: row.master_key_id };
  }

  /** Whether any row was ever sealed (one may remain only as a checkpoint after retention). */
  async chainBegun(): Promise<boolean> {
    const [row] = await this.dataSource.query<{ begun: boolean }[]>(
      `SELECT EXISTS (SELECT 1 FROM "metadata"."audit_log" WHERE "chain_seq" IS NOT NULL)
           OR EXISTS (SELECT 1 FROM "metadata"."audit_checkpoints") AS "begun"`,
    );
    return row?.begun === true;
  }

  /** Replaces the keys' wrapping, only if it is still the one read: a concurrent rotation wins. */
  async rewrap(old: StoredAuditChainKeys, wrappedKeys: Buffer, masterKeyId: string): Promise<boolean> {
    return (
      affectedRows(
        await this.dataSource.query(
          `UPDATE "metadata"."audit_chain_keys" SET "wrapped_keys" = $3, "master_key_id" = $4, "updated_at" = now()
           WHERE "master_key_id" = $1 AND "wrapped_keys" = $2`,
          [old.masterKeyId, old.wrappedKeys, wrappedKeys, masterKeyId],
        ),
      ) > 0
    );
  }
}
