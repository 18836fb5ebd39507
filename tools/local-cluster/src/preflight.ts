import { ensureDatabaseExists, pingDatabaseServer, redactDatabaseUrl } from '@cloudstore/database';
import type { RedisSettings } from '@cloudstore/config';
import { pingRedis, redactRedisUrl } from '@cloudstore/redis';

const HOW_TO_START = 'start them with: docker compose up -d postgres redis';

/** Why the cluster cannot start, in one line. */
export class PreflightError extends Error {
  override name = 'PreflightError';
}

async function retryUntil(deadline: number, attempt: () => Promise<void>): Promise<void> {
  for (;;) {
    try {
      await attempt();
      return;
    } catch (error) {
      if (Date.now() + 1000 >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reasonOf(error.errors[0]);
  return error instanceof Error ? error.message || error.name : String(error);
}

/**
 * Checks that PostgreSQL and Redis answer (retrying for a few seconds, for a database that is
 * still starting) and creates the cluster's database when it does not exist yet.
 */
export async function preflight(databaseUrl: string, redis: RedisSettings, timeoutMs = 6000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await Promise.all([
    retryUntil(deadline, () => pingDatabaseServer(databaseUrl, 2000)).catch((error: unknown) => {
      throw new PreflightError(
        `cannot reach PostgreSQL at ${redactDatabaseUrl(databaseUrl)} (${reasonOf(error)}); ${HOW_TO_START}`,
      );
    }),
    retryUntil(deadline, () => pingRedis(redis, 2000)).catch((error: unknown) => {
      throw new PreflightError(`cannot reach Redis at ${redactRedisUrl(redis.REDIS_URL)} (${reasonOf(error)}); ${HOW_TO_START}`);
    }),
  ]);
  try {
    await ensureDatabaseExists(databaseUrl);
  } catch (error) {
    throw new PreflightError(`cannot create the database of ${redactDatabaseUrl(databaseUrl)} (${reasonOf(error)})`);
  }
}
