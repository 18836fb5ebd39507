import { SEALED_VALUE_PATTERN } from '@cloudstore/master-key';
import type { FindOptionsWhere, ObjectLiteral, Repository } from 'typeorm';

/**
 * Seals the secrets of one column still stored in plaintext (rows from before sealing existed):
 * a migration cannot, it does not know the master key, so each service start does it. Idempotent,
 * and safe with replicas starting together: a row changes only while it still holds the plaintext.
 * Returns how many rows this call sealed.
 */
export async function sealPlaintextRows<E extends ObjectLiteral>(
  rows: Repository<E>,
  id: keyof E & string,
  secret: keyof E & string,
  seal: (plaintext: string, rowId: string) => string,
): Promise<number> {
  const plaintext = await rows
    .createQueryBuilder('r')
    .select([`r.${id}`, `r.${secret}`])
    .where(`r.${secret} NOT LIKE :sealed`, { sealed: SEALED_VALUE_PATTERN })
    .getMany();
  let sealed = 0;
  for (const row of plaintext) {
    const value = row[secret] as string;
    const rowId = row[id] as string;
    const unchanged = { [id]: rowId, [secret]: value } as FindOptionsWhere<E>;
    const change = { [secret]: seal(value, rowId) } as unknown as Parameters<Repository<E>['update']>[1];
    const result = await rows.update(unchanged, change);
    sealed += result.affected ?? 0;
  }
  return sealed;
}
