import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { commonVars, loadConfig } from '@cloudstore/config';
import { waitFor } from '@cloudstore/testing';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { z } from 'zod';
import { createRedisClient, pingRedis, redactRedisUrl } from './redis-client';

const serverUrl = loadConfig(z.object({ REDIS_URL: commonVars.REDIS_URL })).REDIS_URL;

/** A pino logger whose lines the test can read. */
function capturingLogger() {
  const lines: { level: number; msg: string; redis?: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** A TCP port nothing listens on (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function withDatabase(url: string, db: number): string {
  const parsed = new URL(url);
  parsed.pathname = `/${db}`;
  return parsed.toString();
}

describe('Redis client', () => {
  const clients: Redis[] = [];
  const servers: ChildProcess[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    for (const server of servers.splice(0)) {
      if (server.exitCode === null) {
        server.kill('SIGKILL');
        await once(server, 'exit');
      }
    }
  });

  describe(createRedisClient.name, () => {
    it('uses the database index of the URL', async () => {
      const db = (Number(new URL(serverUrl).pathname.slice(1) || 0) + 1) % 16;
      const key = `cloudstore:test:redis-client:${randomBytes(6).toString('hex')}`;
      const sut = createRedisClient(withDatabase(serverUrl, db), undefined);
      const onDb = new Redis(withDatabase(serverUrl, db));
      const onOther = new Redis(withDatabase(serverUrl, (db + 1) % 16));
      clients.push(sut, onDb, onOther);
      await sut.set(key, 'here', 'EX', 60);
      expect(await onDb.get(key)).toBe('here');
      expect(await onOther.get(key)).toBeNull();
    });

    it('fails commands fast while Redis is down, warns once, and says when it is back', async () => {
      const port = await closedPort();
      const { logger, lines } = capturingLogger();
      const sut = createRedisClient(`redis://:hunter2@127.0.0.1:${port}/0`, logger);
      clients.push(sut);
      let reconnects = 0;
      sut.on('reconnecting', () => (reconnects += 1));

      const started = Date.now();
      await expect(sut.get('anything')).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(5000);
      await waitFor('three reconnection attempts', () => reconnects >= 3, 15_000, 50);
      const warnings = lines.filter((l) => l.msg === 'redis connection error');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.redis).toBe(`redis://:***@127.0.0.1:${port}/0`);

      const server = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', 'hunter2'],
        {
          stdio: 'ignore',
        },
      );
      servers.push(server);
      await waitFor('the client to reconnect', () => sut.status === 'ready', 20_000, 50);
      expect(lines.filter((l) => l.msg === 'redis connection restored')).toHaveLength(1);
      await expect(sut.ping()).resolves.toBe('PONG');
    });
  });

  describe(pingRedis.name, () => {
    it('resolves when the server answers', async () => {
      await expect(pingRedis(serverUrl)).resolves.toBeUndefined();
    });

    it('rejects, without retrying forever, when nothing listens', async () => {
      const started = Date.now();
      await expect(pingRedis(`redis://127.0.0.1:${await closedPort()}/0`, 1000)).rejects.toThrow(/ECONNREFUSED|closed/);
      expect(Date.now() - started).toBeLessThan(3000);
    });
  });

  describe(redactRedisUrl.name, () => {
    it('masks the password and keeps the database index', () => {
      expect(redactRedisUrl('redis://default:s3cret@cache:6379/4')).toBe('redis://default:***@cache:6379/4');
      expect(redactRedisUrl('redis://cache:6379/0')).toBe('redis://cache:6379/0');
    });

    it('never echoes what it cannot parse', () => {
      expect(redactRedisUrl('::s3cret')).toBe('<unparseable REDIS_URL>');
    });
  });
});
