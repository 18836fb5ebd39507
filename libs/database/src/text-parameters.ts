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

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text that PostgreSQL always takes, for values that must be written whatever they hold (an audit
 * event's attempted username, a refused filename): U+0000 removed, a lone surrogate (a string cut
 * inside an emoji) replaced by U+FFFD so the UTF-8 is well formed, and at most `maxCodePoints`
 * code points, never cutting a character in two.
 */
export function storableText(value: string, maxCodePoints: number): string {
  const clean = value.replaceAll('\u0000', '').replace(LONE_SURROGATE, '\uFFFD');
  const codePoints = Array.from(clean);
  return codePoints.length > maxCodePoints ? codePoints.slice(0, maxCodePoints).join('') : clean;
}
