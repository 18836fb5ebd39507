import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import argon2 from 'argon2';
import type { AuthConfig } from '@cloudstore/config';
import { WeakPasswordError } from '@cloudstore/contracts';
import { AUTH_CONFIG } from '../auth.tokens';
import { isOversizedPassword, MAX_PASSWORD_BYTES, normalizePassword } from './password-policy';

/**
 * The least memory OWASP pairs with any pass count (7 MiB, 5 passes): below it, passes do not
 * make up for the memory that makes GPU attacks costly.
 */
const OWASP_MIN_MEMORY_KIB = 7168;

/**
 * The memory (KiB) and passes of an Argon2id v1.3 PHC string
 * (`$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$salt$hash`, the parameters in any order);
 * undefined for anything else.
 */
function argon2idCost(hash: string): { memoryKib: number; passes: number } | undefined {
  const [, type, version, params] = hash.split('$');
  if (type !== 'argon2id' || version !== 'v=19' || !params) return undefined;
  const values = new Map(params.split(',').map((pair) => pair.split('=') as [string, string]));
  const cost = { memoryKib: Number(values.get('m')), passes: Number(values.get('t')) };
  return Number.isFinite(cost.memoryKib * cost.passes) ? cost : undefined;
}

/**
 * Argon2id hashing of passwords. Verifying against an unknown user costs the same as against a
 * real one (a dummy hash), so response time does not tell whether a username exists.
 */
@Injectable()
export class PasswordHasher {
  private dummyHash: Promise<string> | undefined;
  private readonly options: { type: typeof argon2.argon2id; memoryCost: number; timeCost: number; parallelism: number };

  constructor(@Inject(AUTH_CONFIG) config: AuthConfig) {
    this.options = {
      type: argon2.argon2id,
      memoryCost: config.ARGON2_MEMORY_KIB,
      timeCost: config.ARGON2_TIME_COST,
      parallelism: config.ARGON2_PARALLELISM,
    };
  }

  hash(password: string): Promise<string> {
    // Callers check the policy first; this is the last line before the expensive work.
    if (isOversizedPassword(password))
      return Promise.reject(new WeakPasswordError(`Password must be at most ${MAX_PASSWORD_BYTES} bytes`));
    return argon2.hash(normalizePassword(password), this.options);
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
    this.dummyHash ??= argon2.hash(randomBytes(32).toString('hex'), this.options).catch((error: unknown) => {
      this.dummyHash = undefined;
      throw error;
    });
    const target = hash ?? (await this.dummyHash);
    const ok = await argon2.verify(target, normalizePassword(password));
    return ok && hash !== undefined;
  }

  /**
   * Whether a stored hash should be replaced at this login: it is not Argon2id v1.3, it costs an
   * attacker less (memory × passes, the trade-off OWASP's equivalent settings follow) than the
   * configured cost, or it uses less memory than OWASP's least (or the configured, if lower)
   * whatever its passes. A costlier hash is kept: lowering the cost must not weaken stored passwords.
   */
  needsRehash(hash: string): boolean {
    const cost = argon2idCost(hash);
    if (!cost) return true;
    if (cost.memoryKib < Math.min(this.options.memoryCost, OWASP_MIN_MEMORY_KIB)) return true;
    return cost.memoryKib * cost.passes < this.options.memoryCost * this.options.timeCost;
  }
}
