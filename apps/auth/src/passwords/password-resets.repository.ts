import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager } from 'typeorm';
import { PasswordResetEntity } from './password-reset.entity';

/** SQL of password-reset links; spending one is a conditional UPDATE, so each works once. */
@Injectable()
export class PasswordResetsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(row: { userId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
    await this.dataSource.manager.insert(PasswordResetEntity, row);
  }

  findByTokenHash(tokenHash: string): Promise<PasswordResetEntity | null> {
    return this.dataSource.manager
      .createQueryBuilder(PasswordResetEntity, 'r')
      .where('r.token_hash = :tokenHash', { tokenHash })
      .getOne();
  }

  /** Spends the link and every other open link of its user; false when it was spent or expired meanwhile. */
  async spend(manager: EntityManager, reset: Pick<PasswordResetEntity, 'id' | 'userId'>): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .update(PasswordResetEntity)
      .set({ usedAt: () => 'now()' })
      .where('id = :id AND used_at IS NULL AND expires_at > now()', { id: reset.id })
      .execute();
    if ((result.affected ?? 0) !== 1) return false;
    await manager
      .createQueryBuilder()
      .update(PasswordResetEntity)
      .set({ usedAt: () => 'now()' })
      .where('user_id = :userId AND used_at IS NULL', { userId: reset.userId })
      .execute();
    return true;
  }
}
