import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { MetadataConfig } from '@cloudstore/config';
import type { Redis } from 'ioredis';
import { METADATA_CONFIG, METADATA_REDIS } from '../metadata.tokens';

/** Deletes the lock only if it is still the caller's. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * One change to a chunk's replicas at a time, across every metadata replica: repair, rebalance
 * and node inventories each hold the chunk's lock (in Redis, expiring on its own if the holder
 * dies) while they copy or delete.
 */
@Injectable()
export class ChunkLocks {
  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    @Inject(METADATA_REDIS) private readonly redis: Redis,
  ) {}

  /** Runs `work` holding the chunk's lock; undefined, without running it, when someone else holds it. */
  async withLock<T>(chunkId: string, work: () => Promise<T>, ttlMs = 5 * 60_000): Promise<T | undefined> {
    const key = `${this.config.REDIS_KEY_PREFIX}:lock:chunk:${chunkId}`;
    const token = randomBytes(12).toString('hex');
    if ((await this.redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return undefined;
    try {
      return await work();
    } finally {
      await this.redis.eval(RELEASE, 1, key, token);
    }
  }
}
