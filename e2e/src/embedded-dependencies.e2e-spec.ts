import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers } from '@cloudstore/local-cluster';
import { findFreePortRange } from '@cloudstore/testing';
import { signUp } from './support/accounts';
import { RestClient } from './support/api-clients';
import { ClusterProcess } from './support/cluster-process';
import { restUpload } from './support/file-transfers';
import { SmtpSink } from './support/smtp-sink';

const listening = (port: number) => answers('127.0.0.1', port, 500);

/**
 * `npm start` on a machine with no PostgreSQL or Redis running: with DATABASE_URL and REDIS_URL
 * unset and nothing at their local ports, it runs an embedded PostgreSQL and a redis-server from
 * the PATH there (non-default ports here), keeps their data under DATA_DIR, and stops them with
 * the cluster.
 */
describe('npm start with nothing running: embedded PostgreSQL and Redis', () => {
  let smtp: SmtpSink;
  let cluster: ClusterProcess;
  let dataDir: string;
  let ports: { postgres: number; redis: number };

  beforeAll(async () => {
    smtp = await SmtpSink.start();
    const base = await findFreePortRange(2);
    ports = { postgres: base, redis: base + 1 };
    dataDir = await mkdtemp(join(tmpdir(), 'cloudstore-embedded-'));
    // Started by root, PostgreSQL runs as the postgres user, which must reach its data folder.
    await chmod(dataDir, 0o755);
    cluster = await ClusterProcess.start({
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      REDIS_KEY_PREFIX: undefined,
      LOCAL_POSTGRES_PORT: String(ports.postgres),
      LOCAL_REDIS_PORT: String(ports.redis),
      DATA_DIR: dataDir,
      SMTP_URL: smtp.url,
    });
    await cluster.waitUntilReady(120_000);
  }, 150_000);

  afterAll(async () => {
    await cluster.destroy();
    await smtp.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('says what it runs and where its data lives', () => {
    expect(cluster.output).toContain(
      `cloudstore: no PostgreSQL at 127.0.0.1:${ports.postgres}: running an embedded one there (data in ${join(dataDir, 'postgres')})`,
    );
    expect(cluster.output).toContain(
      `cloudstore: no Redis at 127.0.0.1:${ports.redis}: running redis-server there (data in ${join(dataDir, 'redis')})`,
    );
  });

  // One test, as the stop must follow the use (tests of a file run in any order under --randomize).
  it('serves register, login, upload and download on them, and stops them with the cluster', async () => {
    const rest = new RestClient(cluster.httpUrl);
    const user = await signUp(rest, smtp, 'embedded');
    const data = randomBytes(300_000);
    const fileId = await restUpload(cluster.httpUrl, user.token, 'on-embedded.bin', data);
    const res = await fetch(`${cluster.httpUrl}/v1/files/${fileId}/content`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(res.status).toBe(200);
    expect(
      createHash('sha256')
        .update(Buffer.from(await res.arrayBuffer()))
        .digest('hex'),
    ).toBe(createHash('sha256').update(data).digest('hex'));

    expect(await listening(ports.postgres)).toBe(true);
    expect(await listening(ports.redis)).toBe(true);
    expect(await cluster.stop('SIGTERM')).toBe(0);
    expect(cluster.output).toMatch(/cloudstore: stopped$/m);
    expect(await listening(ports.postgres)).toBe(false);
    expect(await listening(ports.redis)).toBe(false);
  });
});
