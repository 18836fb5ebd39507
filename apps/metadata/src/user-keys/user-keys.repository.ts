import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { affectedRows } from '@cloudstore/database';
import type { DataSource, EntityManager } from 'typeorm';

/** A user's key as stored: wrapped by the master key of `masterKeyId`. */
export interface StoredUserKey {
  readonly userId: string;
  readonly wrappedKey: Buffer;
  readonly masterKeyId: string;
}

interface UserKeyRow {
  user_id: string;
  wrapped_key: Buffer;
  master_key_id: string;
}

/** SQL of users' keys (an erasure deletes them: UserErasureRepository). Creation is one statement the database arbitrates. */
@Injectable()
export class UserKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private manager(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  /**
   * The user's key, stored from `proposed` if the user had none: of concurrent first calls one
   * insert wins and every call answers its key. 'erased' when an erasure deleted it between
   * the insert and the read.
   * Not inside a transaction: the read after the insert must see a key another call committed.
   */
  async ensure(proposed: StoredUserKey): Promise<StoredUserKey | 'erased'> {
    await this.dataSource.query(
      `INSERT INTO "metadata"."user_keys" ("user_id", "wrapped_key", "master_key_id") VALUES ($1, $2, $3)
       ON CONFLICT ("user_id") DO NOTHING`,
      [proposed.userId, proposed.wrappedKey, proposed.masterKeyId],
    );
    return (await this.find(proposed.userId)) ?? 'erased';
  }

  /** The user's key; undefined when the user has none (never had, or was erased). */
  async find(userId: string, manager?: EntityManager): Promise<StoredUserKey | undefined> {
    const rows: UserKeyRow[] = await this.manager(manager).query(
      `SELECT "user_id", "wrapped_key", "master_key_id" FROM "metadata"."user_keys"
       WHERE "user_id" = $1`,
      [userId],
    );
    return rows[0] && storedKey(rows[0]);
  }

  /** Up to `limit` keys wrapped by another master key than `masterKeyId`, for a rotation. */
  async wrappedByOtherThan(masterKeyId: string, limit: number): Promise<StoredUserKey[]> {
    const rows: UserKeyRow[] = await this.dataSource.query(
      `SELECT "user_id", "wrapped_key", "master_key_id" FROM "metadata"."user_keys"
       WHERE "master_key_id" <> $1 ORDER BY "user_id" LIMIT $2`,
      [masterKeyId, limit],
    );
    return rows.map(storedKey);
  }

  /** Replaces a key's wrapping, only if it is still the one read: a concurrent rotation or destruction wins. */
  async rewrap(old: StoredUserKey, wrappedKey: Buffer, masterKeyId: string): Promise<boolean> {
    return (
      affectedRows(
        await this.dataSource.query(
          `UPDATE "metadata"."user_keys" SET "wrapped_key" = $4, "master_key_id" = $5, "updated_at" = now()
           WHERE "user_id" = $1 AND "master_key_id" = $2 AND "wrapped_key" = $3`,
          [old.userId, old.masterKeyId, old.wrappedKey, wrappedKey, masterKeyId],
        ),
      ) > 0
    );
  }
}

function storedKey(row: UserKeyRow): StoredUserKey {
  return { userId: row.user_id, wrappedKey: row.wrapped_key, masterKeyId: row.master_key_id };
}
