import { randomBytes } from 'node:crypto';
import { commonVars, loadConfig } from '@cloudstore/config';
import { Redis } from 'ioredis';
import { z } from 'zod';

/** A key prefix of its own on the Redis server tests use, and a client; `drop` deletes every key under it. */
export interface TestRedis {
  readonly url: string;
  /** A valid REDIS_KEY_PREFIX, unique to this test file. */
  readonly keyPrefix: string;
  readonly client: Redis;
  drop(): Promise<void>;
}

/** The Redis server tests use: REDIS_URL's, else the local default. */
export function testRedisUrl(): string {
  return loadConfig(z.object({ REDIS_URL: commonVars.REDIS_URL })).REDIS_URL;
}

/** Deletes every key that starts with `prefix`. */
export async function deleteRedisKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

export async function createTestRedis(prefix = 'test'): Promise<TestRedis> {
  const url = testRedisUrl();
  const keyPrefix = `${prefix}${randomBytes(5).toString('hex')}`;
  const client = new Redis(url, { maxRetriesPerRequest: 2 });
  await client.ping();
  return {
    url,
    keyPrefix,
    client,
    drop: async () => {
      await deleteRedisKeys(client, keyPrefix);
      client.disconnect();
    },
  };
}
