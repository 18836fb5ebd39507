import type { PasswordPolicyName } from '@cloudstore/config';
import { type DomainError, WeakPasswordError } from '@cloudstore/contracts';
import { dictionary } from '@zxcvbn-ts/language-common';

export const MAX_PASSWORD_LENGTH = 128;
/**
 * The most bytes (UTF-8, as received) a password may have: checked before it is normalised or
 * hashed, so an oversized one costs nothing. 128 characters of 4 bytes each still fit.
 */
export const MAX_PASSWORD_BYTES = 1024;

/** Whether a password is longer than any that is allowed: decided on its raw bytes, before any work. */
export function isOversizedPassword(password: string): boolean {
  // Each UTF-16 unit is at most 3 UTF-8 bytes: no need to count a string that is short or long enough.
  if (password.length * 3 <= MAX_PASSWORD_BYTES) return false;
  return password.length > MAX_PASSWORD_BYTES || Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES;
}
const MIN_LENGTH: Record<PasswordPolicyName, number> = { seed: 12, nist: 15 };
/** Context words shorter than this are too common as substrings to forbid. */
const MIN_CONTEXT_WORD_LENGTH = 3;

let blocklist: Set<string> | undefined;

/**
 * The common and breached passwords nobody may choose: the 49,000 most frequent passwords of
 * the zxcvbn-ts common dictionary (ranked from public breach corpora), compared in lower case.
 */
export function commonPasswords(): Set<string> {
  blocklist ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  return blocklist;
}

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i' };
/** Digits and symbols people add around a common word to pass composition rules. */
const DECORATION = /^[\d\W_]{0,6}(.*?)[\d\W_]{0,6}$/u;

/**
 * Whether a password is a common one, also once the usual disguises are removed: a few digits
 * or symbols added before or after ("Password123!") and letters written as digits ("P@ssw0rd").
 */
export function isCommonPassword(password: string): boolean {
  const list = commonPasswords();
  const lower = password.toLowerCase();
  if (list.has(lower)) return true;
  const core = DECORATION.exec(lower)?.[1] ?? lower;
  if (core.length < 4) return false;
  const unleet = core.replace(/[013457@$!]/g, (c) => LEET[c] ?? c);
  return list.has(core) || list.has(unleet);
}

function weak(message: string): DomainError {
  return new WeakPasswordError(message);
}

/** Passwords are compared and hashed in Unicode NFC, so that the same text always matches. */
export function normalizePassword(password: string): string {
  return password.normalize('NFC');
}

/**
 * Checks a new password. `seed`: at least 12 characters with an upper-case letter, a lower-case
 * letter, a digit and a special character. `nist` (SP 800-63B, ASVS 5): at least 15 characters,
 * no composition rules. Both: at most 1 KiB as received (checked first), and at most 128
 * characters (never truncated), not a common password,
 * not containing the username or the email's local part. The error says which rule failed.
 */
export function assertPasswordAllowed(
  policy: PasswordPolicyName,
  password: string,
  context: { username: string; emailLocalPart: string },
): void {
  if (isOversizedPassword(password)) throw weak(`Password must be at most ${MAX_PASSWORD_BYTES} bytes`);
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  const min = MIN_LENGTH[policy];
  if (length < min) throw weak(`Password must be at least ${min} characters`);
  if (length > MAX_PASSWORD_LENGTH) throw weak(`Password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  if (policy === 'seed') {
    const missing = [
      [/\p{Lu}/u, 'an upper-case letter'],
      [/\p{Ll}/u, 'a lower-case letter'],
      [/\p{Nd}/u, 'a digit'],
      [/[^\p{L}\p{N}]/u, 'a special character'],
    ]
      .filter(([pattern]) => !(pattern as RegExp).test(normalized))
      .map(([, name]) => name as string);
    if (missing.length > 0) throw weak(`Password must contain ${missing.join(', ')}`);
  }
  const lower = normalized.toLowerCase();
  if (isCommonPassword(normalized))
    throw weak('Password is too common: it is, or is built on, a password in lists of breached passwords');
  for (const [word, what] of [
    [context.username, 'your username'],
    [context.emailLocalPart, 'the name part of your email address'],
  ] as const) {
    if (word.length >= MIN_CONTEXT_WORD_LENGTH && lower.includes(word.toLowerCase()))
      throw weak(`Password must not contain ${what}`);
  }
}
