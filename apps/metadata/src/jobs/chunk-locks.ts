import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { MetadataConfig } from '@cloudstore/config';
import type { Redis } from 'ioredis';
import { METADATA_CONFIG, METADATA_REDIS } from '../metadata.tokens';

/** Deletes the lock only if it is still the caller's. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** Extends the lock's time to live only if it is still the caller's. */
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

/** How long a chunk lock lives without renewal: how soon the chunk is free again if its holder dies. */
export const CHUNK_LOCK_TTL_MS = Symbol('CHUNK_LOCK_TTL_MS');
export const DEFAULT_CHUNK_LOCK_TTL_MS = 30_000;

/** The work's lock is gone (expired or taken over): it must not record or delete anything more. */
export class LockLostError extends Error {
  override readonly name = 'LockLostError';
}

/** What work under a chunk lock sees of it. */
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
class RenewedLock implements HeldLock {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  /** Until when the lock is ours for sure, by our clock: set from the start of the last confirming call. */
  private heldUntil: number;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
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

/**
 * One change to a chunk's replicas at a time, across every metadata replica: repair, drain,
 * rebalance, node inventories and garbage collection each hold the chunk's lock (in Redis,
 * expiring on its own if the holder dies, renewed while the holder works) while they copy,
 * record or delete.
 */
@Injectable()
export class ChunkLocks {
  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    @Inject(METADATA_REDIS) private readonly redis: Redis,
    @Optional() @Inject(CHUNK_LOCK_TTL_MS) private readonly ttlMs: number = DEFAULT_CHUNK_LOCK_TTL_MS,
  ) {}

  /**
   * Runs `work` holding the chunk's lock; undefined, without running it, when someone else holds
   * it. The work must `fence()` before each step that records or deletes; if the lock is lost it
   * throws LockLostError from there, and the rest is left to a later attempt.
   */
  async withLock<T>(chunkId: string, work: (lock: HeldLock) => Promise<T>): Promise<T | undefined> {
    const key = `${this.config.REDIS_KEY_PREFIX}:lock:chunk:${chunkId}`;
    const token = randomBytes(12).toString('hex');
    const acquiredAt = Date.now();
    if ((await this.redis.set(key, token, 'PX', this.ttlMs, 'NX')) !== 'OK') return undefined;
    const lock = new RenewedLock(this.redis, key, token, this.ttlMs, acquiredAt);
    try {
      return await work(lock);
    } finally {
      await lock.release();
    }
  }
}
