import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';

/** How to reach Redis, as every configuration that uses it has it. */
export interface RedisSettings {
  /** redis:// or rediss:// (TLS), with an optional `user:password@` and `/N` database index. */
  readonly REDIS_URL: string;
  /** For rediss://: the CA(s) the server's certificate chains to; unset, the system's trusted roots. */
  readonly REDIS_CA_FILE?: string | undefined;
}

/**
 * The TLS options of a Redis connection: none for redis://; for rediss://, the server is
 * verified against REDIS_CA_FILE's CA when given. The URL itself carries the credentials.
 */
export function redisTlsOptions(settings: RedisSettings): ConnectionOptions | undefined {
  if (!settings.REDIS_URL.startsWith('rediss://')) return undefined;
  return settings.REDIS_CA_FILE ? { ca: readFileSync(settings.REDIS_CA_FILE) } : {};
}
