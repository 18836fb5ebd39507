import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalDependencies, stopAll } from './embedded-dependencies';

/**
 * The PostgreSQL and Redis of a test run (jest's global setup), as `npm start` finds them: those
 * of DATABASE_URL and REDIS_URL, or on 127.0.0.1 at LOCAL_POSTGRES_PORT and LOCAL_REDIS_PORT, or,
 * where nothing answers there, an embedded PostgreSQL and a redis-server from the PATH started
 * once for the whole run, their data in a temporary folder. The URLs are set in this process's
 * environment, which the test workers inherit: `npm ci && npm test` passes on a machine with Node
 * and the Redis package alone. Resolves with what stops them.
 */
export async function startTestDependencies(log: (line: string) => void): Promise<() => Promise<void>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cloudstore-test-dependencies-'));
  // Started by root, PostgreSQL runs as the postgres user, which must reach its data folder.
  await chmod(dataDir, 0o755);
  // eslint-disable-next-line no-restricted-syntax -- the URLs are set for the test workers, which inherit this environment
  const started = await startLocalDependencies(process.env, dataDir, log).catch(async (error: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  return async () => {
    await stopAll(started);
    await rm(dataDir, { recursive: true, force: true });
  };
}
