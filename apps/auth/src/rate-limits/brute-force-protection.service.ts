import { Inject, Injectable } from '@nestjs/common';
import type { AuthConfig } from '@cloudstore/config';
import { AccountLockedError, RateLimitedError } from '@cloudstore/contracts';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AUTH_CONFIG, REDIS } from '../auth.tokens';

function secondsUntilReset(res: RateLimiterRes | null): number {
  return Math.max(1, Math.ceil((res?.msBeforeNext ?? 1000) / 1000));
}

/**
 * Counters against password guessing and mail flooding, in Redis (atomic across replicas):
 *
 * - per account: LOGIN_MAX_ATTEMPTS password attempts per LOGIN_WINDOW_SECONDS. An attempt is
 *   charged before the password is checked and refunded when it was right, so no more than the
 *   limit are ever checked; past it the account is locked until the window ends, even for the
 *   right password (ACCOUNT_LOCKED).
 * - per client address: IP_MAX_ATTEMPTS failed logins and codes, registrations and mailed codes
 *   per window (RATE_LIMITED); charged up front, refunded for a right password or code.
 * - per account: OTP_MAILS_PER_ACCOUNT mailed codes per window (RATE_LIMITED).
 * - per account: LOGIN_MAX_ATTEMPTS wrong authenticator codes per window when a signed-in user
 *   confirms or disables an authenticator app (RATE_LIMITED), so a stolen access token cannot
 *   guess its way to turning the second factor off.
 */
@Injectable()
export class BruteForceProtection {
  private readonly accountAttempts: RateLimiterRedis;
  private readonly addressAttempts: RateLimiterRedis;
  private readonly accountMails: RateLimiterRedis;
  private readonly accountCodeAttempts: RateLimiterRedis;

  constructor(@Inject(AUTH_CONFIG) config: AuthConfig, @Inject(REDIS) redis: Redis) {
    const common = { storeClient: redis, duration: config.LOGIN_WINDOW_SECONDS };
    this.accountAttempts = new RateLimiterRedis({
      ...common,
      keyPrefix: `${config.REDIS_KEY_PREFIX}:limit:login`,
      points: config.LOGIN_MAX_ATTEMPTS,
    });
    this.addressAttempts = new RateLimiterRedis({
      ...common,
      keyPrefix: `${config.REDIS_KEY_PREFIX}:limit:address`,
      points: config.IP_MAX_ATTEMPTS,
    });
    this.accountMails = new RateLimiterRedis({
      ...common,
      keyPrefix: `${config.REDIS_KEY_PREFIX}:limit:otp-mail`,
      points: config.OTP_MAILS_PER_ACCOUNT,
    });
    this.accountCodeAttempts = new RateLimiterRedis({
      ...common,
      keyPrefix: `${config.REDIS_KEY_PREFIX}:limit:totp-code`,
      points: config.LOGIN_MAX_ATTEMPTS,
    });
  }

  /** Charges one password attempt to the account; throws ACCOUNT_LOCKED past the limit. */
  async chargePasswordAttempt(accountKey: string): Promise<void> {
    try {
      await this.accountAttempts.consume(accountKey);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const retryAfter = secondsUntilReset(error);
      throw new AccountLockedError(`Too many failed sign-ins: the account is locked for ${retryAfter} s`, retryAfter);
    }
  }

  /** The attempt was right: it does not count against the account. */
  async refundPasswordAttempt(accountKey: string): Promise<void> {
    await this.accountAttempts.reward(accountKey, 1);
  }

  /** After a complete login the account starts from a clean slate. */
  async resetAccount(accountKey: string): Promise<void> {
    await this.accountAttempts.delete(accountKey);
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
}
