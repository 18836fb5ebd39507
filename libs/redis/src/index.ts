/** The Redis connection of every service (sessions, rate limits, caches): connect, ping, redact. */
export * from './redis-client';
export * from './redis-lock';
