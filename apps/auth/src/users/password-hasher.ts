import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import argon2 from 'argon2';
import { WeakPasswordError } from '@cloudstore/contracts';
import { isOversizedPassword, MAX_PASSWORD_BYTES, normalizePassword } from './password-policy';

/** RFC 9106's second recommended option: 64 MiB, 3 passes, 4 lanes (the seed asks for 64 MiB, 2 passes). */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 65536, timeCost: 3, parallelism: 4 } as const;

/**
 * Argon2id hashing of passwords. Verifying against an unknown user costs the same as against a
 * real one (a dummy hash), so response time does not tell whether a username exists.
 */
@Injectable()
export class PasswordHasher {
  private dummyHash: Promise<string> | undefined;

  hash(password: string): Promise<string> {
    // Callers check the policy first; this is the last line before the expensive work.
    if (isOversizedPassword(password))
      return Promise.reject(new WeakPasswordError(`Password must be at most ${MAX_PASSWORD_BYTES} bytes`));
    return argon2.hash(normalizePassword(password), ARGON2_OPTIONS);
  }

  /**
   * False for a wrong password; `hash` undefined means the user does not exist. A stored hash that
   * argon2 cannot read is corrupt data, not a wrong password: it throws (logged, INTERNAL_ERROR)
   * instead of locking the user out without a trace.
   */
  async verify(hash: string | undefined, password: string): Promise<boolean> {
    // No allowed password is this long: nothing to hash (that it is too long is no secret).
    if (isOversizedPassword(password)) return false;
    // Made once, on first need; a failed attempt is forgotten so that the next login tries again.
    this.dummyHash ??= argon2.hash(randomBytes(32).toString('hex'), ARGON2_OPTIONS).catch((error: unknown) => {
      this.dummyHash = undefined;
      throw error;
    });
    const target = hash ?? (await this.dummyHash);
    const ok = await argon2.verify(target, normalizePassword(password));
    return ok && hash !== undefined;
  }

  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, ARGON2_OPTIONS);
  }
}
