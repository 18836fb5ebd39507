import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { createTestPki, RedisServer, type TestPki, testRedisSettings, waitFor } from '@cloudstore/testing';
import { type Redis } from 'ioredis';
import { pino } from 'pino';
import { createRedisClient, pingRedis, redactRedisUrl } from './redis-client';

const server = testRedisSettings();

/** A pino logger whose lines (raw and parsed) the test can read. */
function capturingLogger() {
  const raw: string[] = [];
  const lines: { level: number; msg: string; redis?: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString());
      lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines, raw };
}

/** A TCP port nothing listens on (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const listener = createServer().listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const address = listener.address();
  await new Promise((resolve) => listener.close(resolve));
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
  const processes: ChildProcess[] = [];
  const servers: RedisServer[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    for (const child of processes.splice(0)) {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    await Promise.all(servers.splice(0).map((s) => s.destroy()));
  });

  describe(createRedisClient.name, () => {
    it('uses the database index of the URL', async () => {
      const db = (Number(new URL(server.REDIS_URL).pathname.slice(1) || 0) + 1) % 16;
      const key = `cloudstore:test:redis-client:${randomBytes(6).toString('hex')}`;
      const at = (n: number) => ({ ...server, REDIS_URL: withDatabase(server.REDIS_URL, n) });
      const sut = createRedisClient(at(db), undefined);
      const onDb = createRedisClient(at(db), undefined);
      const onOther = createRedisClient(at((db + 1) % 16), undefined);
      clients.push(sut, onDb, onOther);
      await sut.set(key, 'here', 'EX', 60);
      expect(await onDb.get(key)).toBe('here');
      expect(await onOther.get(key)).toBeNull();
    });

    it('fails commands fast while Redis is down, warns once, and says when it is back', async () => {
      const port = await closedPort();
      const { logger, lines } = capturingLogger();
      const sut = createRedisClient({ REDIS_URL: `redis://:hunter2@127.0.0.1:${port}/0` }, logger);
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

      const child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', 'hunter2'],
        { stdio: 'ignore' },
      );
      processes.push(child);
      await waitFor('the client to reconnect', () => sut.status === 'ready', 20_000, 50);
      expect(lines.filter((l) => l.msg === 'redis connection restored')).toHaveLength(1);
      await expect(sut.ping()).resolves.toBe('PONG');
    });

    it('signs in with the password of the URL, or as an ACL user; a wrong password is refused and never logged', async () => {
      const redis = await RedisServer.start({
        password: 'default-s3cret',
        aclUser: { name: 'cloudstore', password: 'acl-s3cret' },
      });
      servers.push(redis);
      const asDefault = createRedisClient(redis.settings(), undefined);
      const asAclUser = createRedisClient(redis.settings('acl-user'), undefined);
      clients.push(asDefault, asAclUser);
      await asDefault.set('k', 'v');
      expect(await asAclUser.get('k')).toBe('v');
      expect(await asAclUser.acl('WHOAMI')).toBe('cloudstore');

      const wrong = new URL(redis.settings('acl-user').REDIS_URL);
      wrong.password = 'wrong-guess-s3cret';
      const { logger, lines, raw } = capturingLogger();
      const refused = createRedisClient({ REDIS_URL: wrong.toString() }, logger, { maxRetriesPerRequest: 0 });
      clients.push(refused);
      await expect(refused.get('k')).rejects.toThrow();
      await waitFor('the refusal to be logged', () => lines.some((l) => l.msg === 'redis connection error'), 5000, 20);
      expect(raw.join('')).toContain('WRONGPASS');
      expect(raw.join('')).not.toContain('wrong-guess-s3cret');
      expect(lines.find((l) => l.msg === 'redis connection error')?.redis).toBe(
        `redis://cloudstore:***@127.0.0.1:${redis.port}/0`,
      );
    });

    describe('over TLS (rediss://)', () => {
      let pki: TestPki;

      beforeAll(async () => {
        pki = await createTestPki(['redis']);
      });
      afterAll(() => pki.remove());

      async function tlsRedis(): Promise<RedisServer> {
        const files = pki.env('redis');
        const redis = await RedisServer.start({
          password: 'tls-s3cret',
          tls: { certFile: files.INTERNAL_CERT_FILE, keyFile: files.INTERNAL_KEY_FILE, caFile: files.INTERNAL_CA_FILE },
        });
        servers.push(redis);
        return redis;
      }

      it('verifies the server with REDIS_CA_FILE and signs in', async () => {
        const redis = await tlsRedis();
        expect(redis.settings().REDIS_URL).toMatch(/^rediss:\/\//);
        const sut = createRedisClient(redis.settings(), undefined);
        clients.push(sut);
        await expect(sut.ping()).resolves.toBe('PONG');
        await expect(pingRedis(redis.settings())).resolves.toBeUndefined();
      });

      it('refuses a server whose certificate no trusted CA signed, and plaintext to a TLS port', async () => {
        const redis = await tlsRedis();
        await expect(pingRedis({ REDIS_URL: redis.settings().REDIS_URL }, 2000)).rejects.toThrow(
          /self[- ]signed certificate|unable to verify/,
        );
        const plaintext = new URL(redis.settings().REDIS_URL);
        plaintext.protocol = 'redis:';
        await expect(pingRedis({ REDIS_URL: plaintext.toString() }, 2000)).rejects.toThrow();
      });
    });
  });

  describe(pingRedis.name, () => {
    it('resolves when the server answers', async () => {
      await expect(pingRedis(server)).resolves.toBeUndefined();
    });

    it('rejects, without retrying forever, when nothing listens', async () => {
      const started = Date.now();
      await expect(pingRedis({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}/0` }, 1000)).rejects.toThrow(
        /ECONNREFUSED|closed/,
      );
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('rejects a wrong password without the password in the error', async () => {
      const redis = await RedisServer.start({ password: 'right-s3cret' });
      servers.push(redis);
      const error = await pingRedis({ REDIS_URL: `redis://:wrong-s3cret@127.0.0.1:${redis.port}/0` }).catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect(JSON.stringify(error)).not.toContain('wrong-s3cret');
      expect((error as Error).message).toMatch(/^WRONGPASS/);
    });
  });

  describe(redactRedisUrl.name, () => {
    it('masks the password and keeps the user and the database index', () => {
      expect(redactRedisUrl('redis://default:s3cret@cache:6379/4')).toBe('redis://default:***@cache:6379/4');
      expect(redactRedisUrl('rediss://:s3cret@cache:6380/0')).toBe('rediss://:***@cache:6380/0');
      expect(redactRedisUrl('redis://cache:6379/0')).toBe('redis://cache:6379/0');
    });

    it('never echoes what it cannot parse', () => {
      expect(redactRedisUrl('::s3cret')).toBe('<unparseable REDIS_URL>');
    });
  });
});
