import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { RecoveryCodeEntity } from './recovery-code.entity';

@Injectable()
export class RecoveryCodesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Replaces the user's codes with new ones, in one transaction. */
  async replace(userId: string, codeHashes: readonly string[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.delete(RecoveryCodeEntity, { userId });
      await manager.insert(
        RecoveryCodeEntity,
        codeHashes.map((codeHash) => ({ userId, codeHash })),
      );
    });
  }

  /** Marks an unused code used; true for exactly one caller, so each code works once. */
  async use(userId: string, codeHash: string): Promise<boolean> {
    const result = await this.dataSource.manager
      .createQueryBuilder()
      .update(RecoveryCodeEntity)
      .set({ usedAt: () => 'now()' })
      .where('user_id = :userId AND code_hash = :codeHash AND used_at IS NULL', { userId, codeHash })
      .execute();
    return (result.affected ?? 0) === 1;
  }

  async deleteAll(userId: string): Promise<void> {
    await this.dataSource.manager.delete(RecoveryCodeEntity, { userId });
  }
}
