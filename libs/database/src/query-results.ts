/**
 * What `EntityManager.query` answers on PostgreSQL for an UPDATE or DELETE: `[rows, affected]`,
 * the rows being those of its RETURNING (a SELECT, and a WITH whose outer statement is one,
 * answers the rows alone).
 */
export function returnedRows<T>(result: unknown): T[] {
  return (result as [T[], number])[0] ?? [];
}

/** How many rows an UPDATE or DELETE changed. */
export function affectedRows(result: unknown): number {
  return Array.isArray(result) ? Number(result[1]) || 0 : 0;
}
