import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { commonVars, loadConfig } from '@cloudstore/config';
import { dropDatabase } from '@cloudstore/database';
import { Client } from 'pg';
import { z } from 'zod';
import { preflight, PreflightError } from './preflight';

const { DATABASE_URL, ...redis } = loadConfig(
  z.object({ DATABASE_URL: commonVars.DATABASE_URL, REDIS_URL: commonVars.REDIS_URL, REDIS_CA_FILE: commonVars.REDIS_CA_FILE }),
);

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe(preflight.name, () => {
  it('creates the cluster database when PostgreSQL and Redis answer', async () => {
    const url = new URL(DATABASE_URL);
    url.pathname = `/cloudstore_preflight_${randomBytes(5).toString('hex')}`;
    try {
      await expect(preflight(url.toString(), redis)).resolves.toBeUndefined();
      const client = new Client({ connectionString: url.toString() });
      await client.connect();
      try {
        expect((await client.query<{ db: string }>('SELECT current_database() AS db')).rows).toEqual([
          { db: url.pathname.slice(1) },
        ]);
      } finally {
        await client.end();
      }
    } finally {
      await dropDatabase(url.toString());
    }
  });

  it('fails within its timeout with one line naming the Redis it tried (password masked) and how to get one', async () => {
    const redisUrl = `redis://:hunter2@127.0.0.1:${await closedPort()}/0`;
    const started = Date.now();
    const failure = preflight(DATABASE_URL, { REDIS_URL: redisUrl }, 2000);
    await expect(failure).rejects.toBeInstanceOf(PreflightError);
    await expect(failure).rejects.toThrow(
      new RegExp(
        `^cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/0 \\(.+\\); start them with: docker compose up -d postgres redis$`,
      ),
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('names the PostgreSQL it could not reach', async () => {
    const databaseUrl = `postgres://postgres:hunter2@127.0.0.1:${await closedPort()}/cloudstore`;
    await expect(preflight(databaseUrl, redis, 1500)).rejects.toThrow(
      /^cannot reach PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/cloudstore \(.*ECONNREFUSED.*\); start them with/,
    );
  });
});
