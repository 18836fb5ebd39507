import { Inject, Injectable, Optional } from '@nestjs/common';
import type { MetadataConfig } from '@cloudstore/config';
import { type HeldLock, tryRedisLock } from '@cloudstore/redis';
import type { Redis } from 'ioredis';
import { METADATA_CONFIG, METADATA_REDIS } from '../metadata.tokens';

/** How long a chunk lock lives without renewal: how soon the chunk is free again if its holder dies. */
export const CHUNK_LOCK_TTL_MS = Symbol('CHUNK_LOCK_TTL_MS');
export const DEFAULT_CHUNK_LOCK_TTL_MS = 30_000;

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
    const lock = await tryRedisLock(this.redis, `${this.config.REDIS_KEY_PREFIX}:lock:chunk:${chunkId}`, this.ttlMs);
    if (!lock) return undefined;
    try {
      return await work(lock);
    } finally {
      await lock.release();
    }
  }
}
