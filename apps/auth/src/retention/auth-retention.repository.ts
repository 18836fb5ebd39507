import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** Rows of ended sign-in state, deleted by one retention sweep, by table. */
export interface DeletedAuthState {
  readonly refreshTokens: number;
  readonly signIns: number;
  readonly passwordResets: number;
}

/** The rows of a DELETE … RETURNING: TypeORM answers those on PostgreSQL with [rows, affected]. */
function deletedCount(result: unknown): number {
  return (result as [unknown[], number])[1] ?? 0;
}

/**
 * SQL of the retention of auth's ended state: refresh tokens, sign-ins and password-reset links
 * that can no longer be used. Each is one DELETE with its condition, so a row still in use is
 * never taken, whatever runs at the same time.
 */
@Injectable()
export class AuthRetentionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Deletes what expired, was revoked or was spent before `cutoff`. */
  async deleteEndedBefore(cutoff: Date): Promise<DeletedAuthState> {
    const manager = this.dataSource.manager;
    // A rotated (used) token of a live sign-in stays until it expires: presented again, it is
    // what reveals a stolen token and revokes its family.
    const refreshTokens = deletedCount(
      await manager.query(`DELETE FROM "auth"."refresh_tokens" WHERE "expires_at" < $1 OR "revoked_at" < $1 RETURNING 1`, [
        cutoff,
      ]),
    );
    const signIns = deletedCount(
      await manager.query(`DELETE FROM "auth"."sign_ins" WHERE "expires_at" < $1 OR "revoked_at" < $1 RETURNING 1`, [cutoff]),
    );
    const passwordResets = deletedCount(
      await manager.query(`DELETE FROM "auth"."password_resets" WHERE "expires_at" < $1 OR "used_at" < $1 RETURNING 1`, [cutoff]),
    );
    return { refreshTokens, signIns, passwordResets };
  }
}
