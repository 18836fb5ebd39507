import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AuthConfig } from '@cloudstore/config';
import type { Redis } from 'ioredis';
import { AUTH_CONFIG, REDIS } from '../auth.tokens';
import { AuthSecrets } from '../secrets/auth-secrets';

export type OtpMethod = 'email' | 'totp';

/** Codes a session takes before it is destroyed. */
export const MAX_OTP_ATTEMPTS = 5;
/** A session outlives its code by this much, so that a late answer is told OTP_EXPIRED. */
const EXPIRED_GRACE_SECONDS = 600;

export interface LoginSession {
  readonly sessionId: string;
  readonly userId: string;
  readonly method: OtpMethod;
  readonly expiresAt: number;
  /** Codes tried so far, this one included. */
  readonly attempts: number;
  /** MAC of the mailed code under the server's OTP key (email method only). */
  readonly otpHash?: string;
}

/** KEYS: session, account pointer. ARGV: session handle, ttl, session key prefix, then field/value pairs. Replaces the account's previous session. */
const CREATE = `
local previous = redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2], 'GET')
if previous then redis.call('DEL', ARGV[3] .. previous) end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1`;

/**
 * KEYS: session. ARGV: max attempts. Counts one more attempt before the code
 * is compared, so no more than the limit are ever compared, however many arrive at once; past it
 * the session is destroyed. Returns the session's fields, or nil when there is none (any more).
 */
const CLAIM_ATTEMPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts > tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return nil
end
return redis.call('HGETALL', KEYS[1])`;

/** KEYS: session, account pointer. ARGV: session handle. Deletes it; 1 for exactly one caller. */
const CONSUME = `
local deleted = redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return deleted`;

/** KEYS: account pointer. ARGV: session key prefix. Deletes the account's session and the pointer. */
const END_FOR_ACCOUNT = `
local handle = redis.call('GET', KEYS[1])
if handle then redis.call('DEL', ARGV[1] .. handle) end
return redis.call('DEL', KEYS[1])`;

/**
 * What names a session in Redis: SHA-256 of its id, so that key names (and the account's pointer)
 * do not give the id itself, which is what a client presents.
 */
export function sessionHandle(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('base64url');
}

/**
 * Pending logins between the password and the second factor, in Redis. The session id is 256
 * random bits and is stored only hashed; the mailed code is kept only as an HMAC under a server
 * key derived from the master key (the session id one input), so read access to Redis gives
 * nothing that checks a guess offline. One pending session per account: a new login replaces the
 * previous one. Every change is one atomic script.
 */
@Injectable()
export class LoginSessionsStore {
  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly secrets: AuthSecrets,
  ) {}

  private get sessionPrefix(): string {
    return `${this.config.REDIS_KEY_PREFIX}:login:session:`;
  }

  private otpMac(sessionId: string, otp: string): string {
    return this.secrets.otpCodes.digest(sessionId, otp).toString('hex');
  }

  private accountKey(userId: string): string {
    return `${this.config.REDIS_KEY_PREFIX}:login:account:${userId}`;
  }

  async create(userId: string, method: OtpMethod, otp: string | undefined): Promise<LoginSession> {
    const sessionId = randomBytes(32).toString('base64url');
    const expiresAt = Math.floor(Date.now() / 1000) + this.config.OTP_TTL_SECONDS;
    const ttl = this.config.OTP_TTL_SECONDS + EXPIRED_GRACE_SECONDS;
    const fields: Record<string, string> = { userId, method, expiresAt: String(expiresAt), attempts: '0' };
    if (otp !== undefined) fields['otpHash'] = this.otpMac(sessionId, otp);
    const handle = sessionHandle(sessionId);
    await this.redis.eval(
      CREATE,
      2,
      this.sessionPrefix + handle,
      this.accountKey(userId),
      handle,
      ttl,
      this.sessionPrefix,
      ...Object.entries(fields).flat(),
    );
    return { sessionId, userId, method, expiresAt, attempts: 0, ...(fields['otpHash'] ? { otpHash: fields['otpHash'] } : {}) };
  }

  /** Counts an attempt at the session's code and returns the session; undefined when it is gone or used up. */
  async claimAttempt(sessionId: string): Promise<LoginSession | undefined> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(sessionId)) return undefined;
    const flat = (await this.redis.eval(CLAIM_ATTEMPT, 1, this.sessionPrefix + sessionHandle(sessionId), MAX_OTP_ATTEMPTS)) as
      string[] | null;
    if (!flat) return undefined;
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i], flat[i + 1]);
    const userId = fields.get('userId');
    if (!userId) return undefined;
    const otpHash = fields.get('otpHash');
    return {
      sessionId,
      userId,
      method: fields.get('method') === 'totp' ? 'totp' : 'email',
      expiresAt: Number(fields.get('expiresAt')),
      attempts: Number(fields.get('attempts') ?? 0),
      ...(otpHash ? { otpHash } : {}),
    };
  }

  /** Constant-time comparison of a submitted code with the mailed one. */
  matchesMailedCode(session: LoginSession, otp: string): boolean {
    if (!session.otpHash) return false;
    const expected = Buffer.from(session.otpHash, 'hex');
    const actual = Buffer.from(this.otpMac(session.sessionId, otp), 'hex');
    return expected.length === actual.length && timingSafeEqual(actual, expected);
  }

  /** Ends the session; true for exactly one caller, which makes each code single-use. */
  async consume(session: LoginSession): Promise<boolean> {
    const handle = sessionHandle(session.sessionId);
    const deleted = await this.redis.eval(CONSUME, 2, this.sessionPrefix + handle, this.accountKey(session.userId), handle);
    return deleted === 1;
  }

  /** Ends the account's login under way, if any (its account is being erased). */
  async endForAccount(userId: string): Promise<void> {
    await this.redis.eval(END_FOR_ACCOUNT, 1, this.accountKey(userId), this.sessionPrefix);
  }
}
