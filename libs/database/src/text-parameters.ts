/**
 * PostgreSQL `text` cannot hold U+0000: a parameter carrying one fails the whole statement with
 * an encoding error. Caller input is checked with this before it reaches a query; nothing stored
 * can contain one, so a lookup or search for such a value simply matches nothing.
 */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000');
}

/**
 * The LIKE pattern (used with `ESCAPE '\'`) of a case-insensitive substring search, `%` and `_`
 * literal; undefined when no stored text can match it.
 */
export function substringPattern(filter: string): string | undefined {
  if (!isStorableText(filter)) return undefined;
  return `%${filter.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
