import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager, IsNull, Not } from 'typeorm';
import { RefreshTokenEntity } from './refresh-token.entity';

export type RefreshTokenRow = RefreshTokenEntity;

/** SQL of refresh tokens; rotation runs in one transaction with the old row locked. */
@Injectable()
export class RefreshTokensRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(
    manager: EntityManager | undefined,
    row: { familyId: string; userId: string; tokenHash: string; expiresAt: Date },
  ): Promise<void> {
    await (manager ?? this.dataSource.manager).insert(RefreshTokenEntity, row);
  }

  /** The token's row, locked until the transaction ends. */
  findForUpdate(manager: EntityManager, tokenHash: string): Promise<RefreshTokenRow | null> {
    return manager
      .createQueryBuilder(RefreshTokenEntity, 't')
      .setLock('pessimistic_write')
      .where('t.token_hash = :tokenHash', { tokenHash })
      .getOne();
  }

  async markUsed(manager: EntityManager, id: string): Promise<void> {
    await manager.update(RefreshTokenEntity, { id }, { usedAt: () => 'now()' });
  }

  async revokeFamily(manager: EntityManager | undefined, familyId: string): Promise<void> {
    await (manager ?? this.dataSource.manager).update(
      RefreshTokenEntity,
      { familyId, revokedAt: IsNull() },
      { revokedAt: () => 'now()' },
    );
  }

  /** Revokes every token of the user, but those of the family `keepFamilyId` when given. */
  async revokeAllOfUser(userId: string, keepFamilyId?: string): Promise<void> {
    await this.dataSource.manager.update(
      RefreshTokenEntity,
      { userId, revokedAt: IsNull(), ...(keepFamilyId ? { familyId: Not(keepFamilyId) } : {}) },
      { revokedAt: () => 'now()' },
    );
  }
}
