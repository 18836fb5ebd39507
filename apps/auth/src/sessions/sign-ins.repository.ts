import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager } from 'typeorm';
import { SignInEntity } from './sign-in.entity';

export interface NewSignIn {
  readonly id: string;
  readonly userId: string;
  readonly device: string;
  readonly clientAddress: string;
  readonly expiresAt: Date;
}

/** SQL of sign-ins. Revocation is one conditional UPDATE, so each sign-in is ended once. */
@Injectable()
export class SignInsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(signIn: NewSignIn): Promise<void> {
    await this.dataSource.manager.insert(SignInEntity, signIn);
  }

  findById(manager: EntityManager, id: string): Promise<SignInEntity | null> {
    return manager.findOneBy(SignInEntity, { id });
  }

  async touch(manager: EntityManager, id: string): Promise<void> {
    await manager.update(SignInEntity, { id }, { lastUsedAt: () => 'now()' });
  }

  /** The user's sign-ins that still work, newest first. */
  listActive(userId: string): Promise<SignInEntity[]> {
    return this.dataSource.manager
      .createQueryBuilder(SignInEntity, 's')
      .where('s.user_id = :userId AND s.revoked_at IS NULL AND s.expires_at > now()', { userId })
      .orderBy('s.created_at', 'DESC')
      .addOrderBy('s.id')
      .getMany();
  }

  /** Ends one sign-in of the user; false when the user has no such live sign-in. */
  async revoke(userId: string, id: string): Promise<boolean> {
    const result = await this.dataSource.manager
      .createQueryBuilder()
      .update(SignInEntity)
      .set({ revokedAt: () => 'now()' })
      .where('id = :id AND user_id = :userId AND revoked_at IS NULL', { id, userId })
      .execute();
    return (result.affected ?? 0) === 1;
  }

  /** Ends every live sign-in of the user but `keepId`; the ids it ended. */
  async revokeAllOfUser(userId: string, keepId?: string): Promise<string[]> {
    const query = this.dataSource.manager
      .createQueryBuilder()
      .update(SignInEntity)
      .set({ revokedAt: () => 'now()' })
      .where('user_id = :userId AND revoked_at IS NULL', { userId })
      .returning(['id']);
    if (keepId) query.andWhere('id <> :keepId', { keepId });
    const result = await query.execute();
    return (result.raw as { id: string }[]).map((row) => row.id);
  }
}
