import { redactUrl, type RedisSettings, redisTlsOptions } from '@cloudstore/config';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/** The URL with any password masked, for messages and logs. */
export function redactRedisUrl(url: string): string {
  return redactUrl(url, '<unparseable REDIS_URL>');
}

/**
 * A Redis connection for `settings`: REDIS_URL's host, credentials (password or ACL user) and
 * `/N` database index, over TLS for rediss:// (verified with REDIS_CA_FILE when given). It
 * reconnects forever with a capped backoff; commands fail fast while it is down instead of
 * queueing without bound. Logs name the server with its password masked.
 */
export function createRedisClient(settings: RedisSettings, logger: Logger | undefined, options: RedisOptions = {}): Redis {
  const url = settings.REDIS_URL;
  const client = new Redis(url, {
    connectTimeout: 5000,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
    tls: redisTlsOptions(settings),
    ...options,
  });
  let reported = false;
  client.on('error', (error: Error) => {
    if (!reported) logger?.warn({ err: withoutRedisCommand(error), redis: redactRedisUrl(url) }, 'redis connection error');
    reported = true;
  });
  client.on('ready', () => {
    if (reported) logger?.info({ redis: redactRedisUrl(url) }, 'redis connection restored');
    reported = false;
  });
  return client;
}

/**
 * `error` without the command ioredis attaches to a reply error, for logs: for a refused AUTH
 * its arguments are the user name and the password.
 */
export function withoutRedisCommand(error: Error): Error {
  if (!('command' in error)) return error;
  const copy = new Error(error.message);
  copy.name = error.name;
  return copy;
}

/** Resolves when a Redis server answers PING with `settings`; else rejects with the cause (refused, TLS, WRONGPASS). */
export async function pingRedis(settings: RedisSettings, timeoutMs = 3000): Promise<void> {
  const client = new Redis(settings.REDIS_URL, {
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: true,
    tls: redisTlsOptions(settings),
  });
  // The cause arrives as an 'error' event; the promise only says the connection closed.
  let cause: Error | undefined;
  client.on('error', (error: Error) => (cause ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw withoutRedisCommand(cause ?? (error as Error));
  } finally {
    // disconnect() on a connection that already ended (refused) schedules a stray reconnect
    // timer that holds the process open for seconds.
    if (client.status !== 'end') client.disconnect();
  }
}
