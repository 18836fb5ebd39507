import type { FindOptionsWhere, ObjectLiteral, Repository } from 'typeorm';

/**
 * Re-seals the secrets of one column whose value does not match `sealedLike` (a SQL `LIKE`
 * pattern): at each start the rows still in plaintext (from before sealing existed: a migration
 * cannot seal them, it does not know the master key), and in a master-key rotation the rows
 * sealed under another key than the current one. Idempotent, and safe with replicas running
 * together: a row changes only while it still holds the value read. Returns how many rows this
 * call re-sealed.
 */
export async function resealRows<E extends ObjectLiteral>(
  rows: Repository<E>,
  id: keyof E & string,
  secret: keyof E & string,
  sealedLike: string,
  reseal: (value: string, rowId: string) => string,
): Promise<number> {
  const stale = await rows
    .createQueryBuilder('r')
    .select([`r.${id}`, `r.${secret}`])
    .where(`r.${secret} NOT LIKE :sealed`, { sealed: sealedLike })
    .getMany();
  let resealed = 0;
  for (const row of stale) {
    const value = row[secret] as string;
    const rowId = row[id] as string;
    const unchanged = { [id]: rowId, [secret]: value } as FindOptionsWhere<E>;
    const change = { [secret]: reseal(value, rowId) } as unknown as Parameters<Repository<E>['update']>[1];
    const result = await rows.update(unchanged, change);
    resealed += result.affected ?? 0;
  }
  return resealed;
}
