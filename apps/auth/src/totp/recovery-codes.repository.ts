import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { RecoveryCodeEntity } from './recovery-code.entity';

const SALT_BYTES = 16;

/** SHA-256(salt ‖ SHA-256(code)): the inner hash is what rows from before salts held, so their codes still work. */
function saltedHash(salt: Buffer, code: string): Buffer {
  return createHash('sha256').update(salt).update(createHash('sha256').update(code).digest()).digest();
}

/** Recovery codes, each stored only as a hash with a salt of its own; the codes given here are normalised. */
@Injectable()
export class RecoveryCodesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Replaces the user's codes with new ones, in one transaction. */
  async replace(userId: string, codes: readonly string[]): Promise<void> {
    const rows = codes.map((code) => {
      const salt = randomBytes(SALT_BYTES);
      return { userId, salt: salt.toString('hex'), codeHash: saltedHash(salt, code).toString('hex') };
    });
    await this.dataSource.transaction(async (manager) => {
      await manager.delete(RecoveryCodeEntity, { userId });
      await manager.insert(RecoveryCodeEntity, rows);
    });
  }

  /** Marks the matching unused code used; true for exactly one caller, so each code works once. */
  async use(userId: string, code: string): Promise<boolean> {
    const unused = await this.dataSource.manager
      .createQueryBuilder(RecoveryCodeEntity, 'c')
      .select(['c.id', 'c.salt', 'c.codeHash'])
      .where('c.user_id = :userId AND c.used_at IS NULL', { userId })
      .getMany();
    // Every unused code is compared (constant time each), so the time says nothing about which matched.
    let match: string | undefined;
    for (const row of unused) {
      const expected = Buffer.from(row.codeHash, 'hex');
      const actual = saltedHash(Buffer.from(row.salt, 'hex'), code);
      if (expected.length === actual.length && timingSafeEqual(expected, actual)) match = row.id;
    }
    if (!match) return false;
    const result = await this.dataSource.manager
      .createQueryBuilder()
      .update(RecoveryCodeEntity)
      .set({ usedAt: () => 'now()' })
      .where('id = :id AND used_at IS NULL', { id: match })
      .execute();
    return (result.affected ?? 0) === 1;
  }

  async deleteAll(userId: string): Promise<void> {
    await this.dataSource.manager.delete(RecoveryCodeEntity, { userId });
  }
}
