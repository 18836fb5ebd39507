import { randomBytes } from 'node:crypto';
import { commonVars, loadConfig, type RedisSettings, redisTlsOptions } from '@cloudstore/config';
import { Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';

/** A key prefix of its own on the Redis server tests use, and a client; `drop` deletes every key under it. */
export interface TestRedis {
  readonly url: string;
  /** REDIS_URL and REDIS_CA_FILE of that server, for a configuration or a client. */
  readonly settings: RedisSettings;
  /** A valid REDIS_KEY_PREFIX, unique to this test file. */
  readonly keyPrefix: string;
  readonly client: Redis;
  drop(): Promise<void>;
}

/** The Redis server tests use: REDIS_URL's (with REDIS_CA_FILE for rediss://), else the local default. */
export function testRedisSettings(): RedisSettings {
  return loadConfig(z.object({ REDIS_URL: commonVars.REDIS_URL, REDIS_CA_FILE: commonVars.REDIS_CA_FILE }));
}

/** A client of the test Redis; `options` as ioredis takes them (e.g. BullMQ's `maxRetriesPerRequest: null`). */
export function testRedisClient(settings: RedisSettings, options: RedisOptions = {}): Redis {
  return new Redis(settings.REDIS_URL, { tls: redisTlsOptions(settings), maxRetriesPerRequest: 2, ...options });
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
  const settings = testRedisSettings();
  const keyPrefix = `${prefix}${randomBytes(5).toString('hex')}`;
  const client = testRedisClient(settings);
  await client.ping();
  return {
    url: settings.REDIS_URL,
    settings,
    keyPrefix,
    client,
    drop: async () => {
      await deleteRedisKeys(client, keyPrefix);
      client.disconnect();
    },
  };
}
