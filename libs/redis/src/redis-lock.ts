import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Deletes the lock only if it is still the caller's. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** Extends the lock's time to live only if it is still the caller's. */
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

/** The work's lock is gone (expired or taken over): it must not record or delete anything more. */
export class LockLostError extends Error {
  override readonly name = 'LockLostError';
}

/** What work under a lock sees of it. */
export interface HeldLock {
  /** Aborted once the lock is known to be lost. */
  readonly signal: AbortSignal;
  /**
   * Confirms in Redis that the lock is still held (and extends it), or throws LockLostError:
   * called right before each step that records or deletes, so no such step runs on a lost lock.
   */
  fence(): Promise<void>;
}

/**
 * A lock held in Redis, renewed by a watchdog every third of its time to live for as long as the
 * work runs. A renewal that finds the lock gone, or that cannot reach Redis before the lock would
 * have expired, aborts the signal.
 */
export class RenewedLock implements HeldLock {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  /** Until when the lock is ours for sure, by our clock: set from the start of the last confirming call. */
  private heldUntil: number;

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly token: string,
    private readonly ttlMs: number,
    acquiredAt: number,
  ) {
    this.heldUntil = acquiredAt + ttlMs;
    this.schedule();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  async fence(): Promise<void> {
    if (!(await this.extend())) throw new LockLostError(`lost the lock ${this.key}`);
  }

  /** Stops renewing and deletes the lock if it is still ours. */
  async release(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.signal.aborted) await this.redis.eval(RELEASE, 1, this.key, this.token);
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.renew(), Math.max(1, Math.floor(this.ttlMs / 3)));
    // A lock never keeps the process alive.
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    await this.extend();
    if (this.timer && !this.signal.aborted) this.schedule();
  }

  /** True when the lock was confirmed ours and extended. */
  private async extend(): Promise<boolean> {
    if (this.signal.aborted) return false;
    const started = Date.now();
    try {
      if ((await this.redis.eval(EXTEND, 1, this.key, this.token, String(this.ttlMs))) === 1) {
        this.heldUntil = started + this.ttlMs;
        return true;
      }
      this.controller.abort(new LockLostError(`lost the lock ${this.key}`));
    } catch (error) {
      // Redis did not answer: the lock is ours only until it would have expired.
      if (Date.now() >= this.heldUntil)
        this.controller.abort(new LockLostError(`could not renew the lock ${this.key}`, { cause: error }));
    }
    return false;
  }
}

/** The lock at `key`, renewed until released; undefined when someone else holds it. */
export async function tryRedisLock(redis: Redis, key: string, ttlMs: number): Promise<RenewedLock | undefined> {
  const token = randomBytes(12).toString('hex');
  const acquiredAt = Date.now();
  if ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return undefined;
  return new RenewedLock(redis, key, token, ttlMs, acquiredAt);
}
