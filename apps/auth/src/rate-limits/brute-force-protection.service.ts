import { Inject, Injectable } from '@nestjs/common';
import type { AuthConfig } from '@cloudstore/config';
import { AccountLockedError, RateLimitedError } from '@cloudstore/contracts';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AUTH_CONFIG, REDIS } from '../auth.tokens';

function secondsUntilReset(res: RateLimiterRes | null): number {
  return Math.max(1, Math.ceil((res?.msBeforeNext ?? 1000) / 1000));
}

/** The longest an account backs off for addresses it does not know, however long an attack goes on. */
export const ACCOUNT_BACKOFF_CEILING_SECONDS = 300;

/**
 * KEYS: the account's back-off hash. ARGV: now (ms), failures before backing off, ceiling (ms),
 * window (s). Counts one failed password; from the `free`-th on, unknown addresses must wait
 * 1 s, 2 s, 4 s … (at most the ceiling) after it. The count lasts a window after the last failure.
 */
const RECORD_ACCOUNT_FAILURE = `
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local free = tonumber(ARGV[2])
if failures >= free then
  local delay = math.min(1000 * 2 ^ math.min(failures - free, 30), tonumber(ARGV[3]))
  redis.call('HSET', KEYS[1], 'until', math.floor(tonumber(ARGV[1]) + delay))
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return failures`;

/** Whether a second-factor guess may be compared, and whether it is the one that reached the cap. */
export type SecondFactorCharge = 'allowed' | 'cap-reached' | 'capped';

/**
 * Counters against password guessing and mail flooding, in Redis (atomic across replicas). Only
 * failures count against an account, never a right password (however many arrive at once):
 *
 * - per (account, client address): LOGIN_MAX_ATTEMPTS failed passwords per LOGIN_WINDOW_SECONDS;
 *   past that this pair is locked until the window ends (ACCOUNT_LOCKED with Retry-After). The
 *   attacker's address is locked, not the account: its owner elsewhere still signs in.
 * - per account, across addresses: from the LOGIN_MAX_ATTEMPTS-th failure on, an address that has
 *   not completed a login of the account waits an exponential back-off (1 s, 2 s, … at most
 *   ACCOUNT_BACKOFF_CEILING_SECONDS) after the last failure (ACCOUNT_LOCKED), so a distributed
 *   attack is slowed to one guess per back-off; addresses the owner signed in from pass.
 * - per client address: IP_MAX_ATTEMPTS failed logins and codes, registrations, mailed codes and
 *   reset requests per window (RATE_LIMITED); charged up front, refunded for a right answer.
 * - per account: OTP_MAILS_PER_ACCOUNT mailed codes and as many reset mails per window.
 * - per account: OTP_MAX_ATTEMPTS_PER_ACCOUNT second-factor guesses per window from all addresses.
 * - per account: LOGIN_MAX_ATTEMPTS wrong authenticator codes per window when a signed-in user
 *   confirms or disables an authenticator app (RATE_LIMITED), so a stolen access token cannot
 *   guess its way to turning the second factor off.
 */
@Injectable()
export class BruteForceProtection {
  private readonly pairFailures: RateLimiterRedis;
  private readonly addressAttempts: RateLimiterRedis;
  private readonly accountMails: RateLimiterRedis;
  private readonly accountResetMails: RateLimiterRedis;
  private readonly accountCodeAttempts: RateLimiterRedis;
  private readonly accountSecondFactorGuesses: RateLimiterRedis;
  private readonly maxFailures: number;

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {
    const common = { storeClient: redis, duration: config.LOGIN_WINDOW_SECONDS };
    const prefix = `${config.REDIS_KEY_PREFIX}:limit`;
    this.maxFailures = config.LOGIN_MAX_ATTEMPTS;
    this.pairFailures = new RateLimiterRedis({ ...common, keyPrefix: `${prefix}:login-pair`, points: config.LOGIN_MAX_ATTEMPTS });
    this.addressAttempts = new RateLimiterRedis({ ...common, keyPrefix: `${prefix}:address`, points: config.IP_MAX_ATTEMPTS });
    this.accountMails = new RateLimiterRedis({
      ...common,
      keyPrefix: `${prefix}:otp-mail`,
      points: config.OTP_MAILS_PER_ACCOUNT,
    });
    this.accountResetMails = new RateLimiterRedis({
      ...common,
      keyPrefix: `${prefix}:reset-mail`,
      points: config.OTP_MAILS_PER_ACCOUNT,
    });
    this.accountCodeAttempts = new RateLimiterRedis({
      ...common,
      keyPrefix: `${prefix}:totp-code`,
      points: config.LOGIN_MAX_ATTEMPTS,
    });
    this.accountSecondFactorGuesses = new RateLimiterRedis({
      ...common,
      keyPrefix: `${prefix}:second-factor`,
      points: config.OTP_MAX_ATTEMPTS_PER_ACCOUNT,
    });
  }

  private pairKey(accountKey: string, address: string | undefined): string {
    return `${accountKey}|${address ?? ''}`;
  }

  private backoffKey(accountKey: string): string {
    return `${this.config.REDIS_KEY_PREFIX}:limit:login-backoff:${accountKey}`;
  }

  private knownAddressesKey(accountKey: string): string {
    return `${this.config.REDIS_KEY_PREFIX}:limit:known-addresses:${accountKey}`;
  }

  /**
   * Before a password is checked: ACCOUNT_LOCKED when this (account, address) pair failed too
   * often, or when the account backs off and the address is not one its owner signed in from.
   * Nothing is charged here: only a failure counts (recordPasswordFailure).
   */
  async assertPasswordAttemptAllowed(accountKey: string, address: string | undefined): Promise<void> {
    const pair = await this.pairFailures.get(this.pairKey(accountKey, address));
    if (pair && pair.consumedPoints >= this.maxFailures) {
      const retryAfter = secondsUntilReset(pair);
      throw new AccountLockedError(`Too many failed sign-ins from this address: try again in ${retryAfter} s`, retryAfter);
    }
    const [until, known] = await Promise.all([
      this.redis.hget(this.backoffKey(accountKey), 'until'),
      address ? this.redis.sismember(this.knownAddressesKey(accountKey), address) : Promise.resolve(0),
    ]);
    const waitMs = Number(until ?? 0) - Date.now();
    if (waitMs > 0 && known !== 1) {
      const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
      throw new AccountLockedError(`Too many failed sign-ins of this account: try again in ${retryAfter} s`, retryAfter);
    }
  }

  /** A wrong password: counts against the pair and the account's back-off. */
  async recordPasswordFailure(accountKey: string, address: string | undefined): Promise<void> {
    await this.pairFailures.penalty(this.pairKey(accountKey, address), 1);
    await this.redis.eval(
      RECORD_ACCOUNT_FAILURE,
      1,
      this.backoffKey(accountKey),
      Date.now(),
      this.maxFailures,
      ACCOUNT_BACKOFF_CEILING_SECONDS * 1000,
      this.config.LOGIN_WINDOW_SECONDS,
    );
  }

  /**
   * A completed login (password and second factor): the pair starts afresh, and the address is
   * known to the account for SESSION_MAX_AGE_SECONDS, so its back-off no longer applies there.
   */
  async recordSignIn(userId: string, address: string | undefined): Promise<void> {
    await this.pairFailures.delete(this.pairKey(userId, address));
    if (!address) return;
    const key = this.knownAddressesKey(userId);
    await this.redis.multi().sadd(key, address).expire(key, this.config.SESSION_MAX_AGE_SECONDS).exec();
  }

  /**
   * Forgets what is kept per account (counters, the addresses it signed in from), for an erasure.
   * Counters of the account with one address expire within LOGIN_WINDOW_SECONDS and name no one once it is gone.
   */
  async forgetAccount(userId: string): Promise<void> {
    await Promise.all([
      this.redis.del(this.knownAddressesKey(userId), this.backoffKey(userId)),
      ...[this.accountMails, this.accountResetMails, this.accountCodeAttempts, this.accountSecondFactorGuesses].map((limiter) =>
        limiter.delete(userId),
      ),
    ]);
  }

  /**
   * Charges one second-factor guess to the account before it is compared: `cap-reached` for the
   * guess that went past OTP_MAX_ATTEMPTS_PER_ACCOUNT (the owner is told once), `capped` after it.
   */
  async chargeSecondFactorGuess(userId: string): Promise<SecondFactorCharge> {
    try {
      await this.accountSecondFactorGuesses.consume(userId);
      return 'allowed';
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      return error.consumedPoints === this.config.OTP_MAX_ATTEMPTS_PER_ACCOUNT + 1 ? 'cap-reached' : 'capped';
    }
  }

  /** The guess was right: it does not count. */
  async refundSecondFactorGuess(userId: string): Promise<void> {
    await this.accountSecondFactorGuesses.reward(userId, 1);
  }

  /**
   * Counts a login attempt, a code attempt, a registration or a mailed code against the address;
   * throws RATE_LIMITED past the limit. Attempts are charged before they are checked.
   */
  async chargeAddress(address: string | undefined): Promise<void> {
    if (!address) return;
    try {
      await this.addressAttempts.consume(address);
    } catch (error) {
      if (error instanceof RateLimiterRes) throw new RateLimitedError(undefined, secondsUntilReset(error));
      throw error;
    }
  }

  /** The attempt charged was right: it does not count against the address. */
  async refundAddress(address: string | undefined): Promise<void> {
    if (address) await this.addressAttempts.reward(address, 1);
  }

  /** Charges one authenticator code of a signed-in user, before it is checked; RATE_LIMITED past the limit. */
  async chargeCodeAttempt(userId: string): Promise<void> {
    try {
      await this.accountCodeAttempts.consume(userId);
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        throw new RateLimitedError('Too many wrong authenticator codes, try again later', secondsUntilReset(error));
      }
      throw error;
    }
  }

  /** The code was right: it does not count. */
  async refundCodeAttempt(userId: string): Promise<void> {
    await this.accountCodeAttempts.reward(userId, 1);
  }

  async chargeMail(userId: string): Promise<void> {
    try {
      await this.accountMails.consume(userId);
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        throw new RateLimitedError('Too many sign-in codes were sent to this account, try again later', secondsUntilReset(error));
      }
      throw error;
    }
  }

  /** False past OTP_MAILS_PER_ACCOUNT reset mails per window: the request is then answered alike but sends nothing. */
  async tryChargeResetMail(userId: string): Promise<boolean> {
    try {
      await this.accountResetMails.consume(userId);
      return true;
    } catch (error) {
      if (error instanceof RateLimiterRes) return false;
      throw error;
    }
  }
}
