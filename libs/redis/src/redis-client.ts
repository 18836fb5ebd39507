import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/** The URL with any password masked, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable REDIS_URL>';
  }
}

/**
 * A Redis connection for `url` (its `/N` database index included). It reconnects forever with
 * a capped backoff; commands fail fast while it is down instead of queueing without bound.
 */
export function createRedisClient(url: string, logger: Logger | undefined, options: RedisOptions = {}): Redis {
  const client = new Redis(url, {
    connectTimeout: 5000,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
    ...options,
  });
  let reported = false;
  client.on('error', (error: Error) => {
    if (!reported) logger?.warn({ err: error, redis: redactRedisUrl(url) }, 'redis connection error');
    reported = true;
  });
  client.on('ready', () => {
    if (reported) logger?.info({ redis: redactRedisUrl(url) }, 'redis connection restored');
    reported = false;
  });
  return client;
}

/** Resolves when a Redis server answers PING at `url`. */
export async function pingRedis(url: string, timeoutMs = 3000): Promise<void> {
  const client = new Redis(url, {
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } finally {
    // disconnect() on a connection that already ended (refused) schedules a stray reconnect
    // timer that holds the process open for seconds.
    if (client.status !== 'end') client.disconnect();
  }
}
