import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AuthConfig } from '@cloudstore/config';
import type { Redis } from 'ioredis';
import { AUTH_CONFIG, REDIS } from '../auth.tokens';

export type OtpMethod = 'email' | 'totp';

/** Wrong codes a session takes before it is destroyed. */
export const MAX_OTP_ATTEMPTS = 5;
/** A session outlives its code by this much, so that a late answer is told OTP_EXPIRED. */
const EXPIRED_GRACE_SECONDS = 600;

export interface LoginSession {
  readonly sessionId: string;
  readonly userId: string;
  readonly method: OtpMethod;
  readonly expiresAt: number;
  readonly attempts: number;
  /** HMAC of the mailed code (email method only). */
  readonly otpHash?: string;
}

function hashOtp(sessionId: string, otp: string): string {
  return createHmac('sha256', sessionId).update(otp).digest('hex');
}

/**
 * Pending logins between the password and the second factor, in Redis. The session id is 256
 * random bits; the mailed code is kept only as an HMAC. One pending session per account: a new
 * login replaces the previous one.
 */
@Injectable()
export class LoginSessionsStore {
  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  private key(sessionId: string): string {
    return `${this.config.REDIS_KEY_PREFIX}:login:session:${sessionId}`;
  }

  private accountKey(userId: string): string {
    return `${this.config.REDIS_KEY_PREFIX}:login:account:${userId}`;
  }

  async create(userId: string, method: OtpMethod, otp: string | undefined): Promise<LoginSession> {
    const sessionId = randomBytes(32).toString('base64url');
    const expiresAt = Math.floor(Date.now() / 1000) + this.config.OTP_TTL_SECONDS;
    const ttl = this.config.OTP_TTL_SECONDS + EXPIRED_GRACE_SECONDS;
    const fields: Record<string, string> = { userId, method, expiresAt: String(expiresAt), attempts: '0' };
    if (otp !== undefined) fields['otpHash'] = hashOtp(sessionId, otp);
    const previous = await this.redis.get(this.accountKey(userId));
    const tx = this.redis
      .multi()
      .hset(this.key(sessionId), fields)
      .expire(this.key(sessionId), ttl)
      .set(this.accountKey(userId), sessionId, 'EX', ttl);
    if (previous) tx.del(this.key(previous));
    await tx.exec();
    return { sessionId, userId, method, expiresAt, attempts: 0, ...(fields['otpHash'] ? { otpHash: fields['otpHash'] } : {}) };
  }

  async find(sessionId: string): Promise<LoginSession | undefined> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(sessionId)) return undefined;
    const fields = await this.redis.hgetall(this.key(sessionId));
    if (!fields['userId']) return undefined;
    return {
      sessionId,
      userId: fields['userId'],
      method: fields['method'] === 'totp' ? 'totp' : 'email',
      expiresAt: Number(fields['expiresAt']),
      attempts: Number(fields['attempts'] ?? 0),
      ...(fields['otpHash'] ? { otpHash: fields['otpHash'] } : {}),
    };
  }

  /** Constant-time comparison of a submitted code with the mailed one. */
  matchesMailedCode(session: LoginSession, otp: string): boolean {
    if (!session.otpHash) return false;
    return timingSafeEqual(Buffer.from(hashOtp(session.sessionId, otp), 'hex'), Buffer.from(session.otpHash, 'hex'));
  }

  /** Ends the session; true for exactly one caller, which makes each code single-use. */
  async consume(session: LoginSession): Promise<boolean> {
    const [[, deleted]] = (await this.redis
      .multi()
      .del(this.key(session.sessionId))
      .del(this.accountKey(session.userId))
      .exec()) as [[Error | null, number], [Error | null, number]];
    return deleted === 1;
  }

  /** Counts a wrong code; returns how many the session has had, and destroys it at the limit. */
  async recordWrongCode(session: LoginSession): Promise<number> {
    const attempts = await this.redis.hincrby(this.key(session.sessionId), 'attempts', 1);
    if (attempts >= MAX_OTP_ATTEMPTS) await this.consume(session);
    return attempts;
  }
}
