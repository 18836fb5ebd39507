import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createTestPki, RedisServer, testRedisSettings, waitFor } from '@cloudstore/testing';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { createJobsConnection, createQueue, QUEUE_JOB_OPTIONS, type RunningWorker, startWorker, QUEUES } from './queues';

const redis = testRedisSettings();

function capturingLogger() {
  const lines: { msg: string; queue?: string; attempt?: number }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
      done();
    },
  });
  return { logger: pino(stream), lines };
}

describe('job queues', () => {
  // Each test has a key prefix of its own, as two clusters sharing one Redis would.
  let prefix: string;
  let connection: Redis;
  const queues: Queue[] = [];
  const workers: RunningWorker[] = [];

  beforeEach(() => {
    prefix = `cloudstore-jobs-test-${randomBytes(5).toString('hex')}`;
    connection = createJobsConnection(redis);
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    for (const queue of queues.splice(0)) {
      await queue.obliterate({ force: true });
      await queue.close();
    }
    const leftovers = await connection.keys(`${prefix}:*`);
    if (leftovers.length > 0) await connection.del(...leftovers);
    connection.disconnect();
  });

  it('hands a job to a worker of the same queue and prefix, with its keys under that prefix', async () => {
    const { logger } = capturingLogger();
    const queue = createQueue<{ eventId: string }>(QUEUES.audit, connection, prefix);
    queues.push(queue as Queue);
    const seen: string[] = [];
    workers.push(
      startWorker<{ eventId: string }>(
        QUEUES.audit,
        redis,
        prefix,
        (job) => Promise.resolve(seen.push(job.data.eventId)),
        logger,
      ),
    );

    await queue.add('event', { eventId: 'e-1' });
    await waitFor('the job to be processed', () => seen.length === 1, 15_000, 50);
    expect(seen).toEqual(['e-1']);
    expect(await connection.keys(`${prefix}:bull:audit:*`)).not.toHaveLength(0);
  });

  it.each(Object.values(QUEUES))('keeps the finished jobs of queue %s bounded in number, done or failed', (name) => {
    const queue = createQueue(name, connection, prefix);
    queues.push(queue);
    const bounded = (removal: unknown) => typeof (removal as { count?: unknown } | undefined)?.count === 'number';
    expect(queue.defaultJobOptions).toEqual(QUEUE_JOB_OPTIONS[name]);
    expect([bounded(queue.defaultJobOptions.removeOnComplete), bounded(queue.defaultJobOptions.removeOnFail)]).toEqual([
      true,
      true,
    ]);
  });

  it('trims completed jobs to the count its queue keeps', async () => {
    const { logger } = capturingLogger();
    const queue = createQueue<{ n: number }>(QUEUES.maintenance, connection, prefix);
    queues.push(queue as Queue);
    const kept = (QUEUE_JOB_OPTIONS.maintenance.removeOnComplete as { count: number }).count;
    let done = 0;
    workers.push(startWorker<{ n: number }>(QUEUES.maintenance, redis, prefix, () => Promise.resolve((done += 1)), logger, 20));
    await queue.addBulk(Array.from({ length: kept + 20 }, (_, n) => ({ name: 'tick', data: { n } })));
    await waitFor('every job done', () => done === kept + 20, 30_000, 50);
    await waitFor('the completed jobs trimmed', async () => (await queue.getJobCountByTypes('completed')) <= kept, 15_000, 50);
    expect(await queue.getJobCountByTypes('completed')).toBeGreaterThan(0);
  });

  it('keeps clusters that share a Redis apart: a worker of another prefix never sees the job', async () => {
    const { logger } = capturingLogger();
    const queue = createQueue<{ n: number }>(QUEUES.garbageCollection, connection, prefix);
    queues.push(queue as Queue);
    const otherPrefix = `${prefix}-other`;
    const otherQueue = createQueue(QUEUES.garbageCollection, connection, otherPrefix);
    queues.push(otherQueue as Queue);
    const mine: number[] = [];
    const theirs: number[] = [];
    workers.push(
      startWorker<{ n: number }>(
        QUEUES.garbageCollection,
        redis,
        otherPrefix,
        (job) => Promise.resolve(theirs.push(job.data.n)),
        logger,
      ),
    );
    workers.push(
      startWorker<{ n: number }>(
        QUEUES.garbageCollection,
        redis,
        prefix,
        (job) => Promise.resolve(mine.push(job.data.n)),
        logger,
      ),
    );

    await queue.addBulk([1, 2, 3].map((n) => ({ name: 'collect', data: { n } })));
    await waitFor('three jobs processed', () => mine.length === 3, 15_000, 50);
    expect(mine.sort()).toEqual([1, 2, 3]);
    expect(theirs).toEqual([]);
  });

  it('retries a failed job with its backoff and logs each failure with the attempt', async () => {
    const { logger, lines } = capturingLogger();
    const queue = createQueue<{ n: number }>(QUEUES.replication, connection, prefix, {
      defaultJobOptions: { attempts: 3, backoff: { type: 'fixed', delay: 20 } },
    });
    queues.push(queue as Queue);
    let attempts = 0;
    workers.push(
      startWorker<{ n: number }>(
        QUEUES.replication,
        redis,
        prefix,
        () => {
          attempts += 1;
          return attempts < 3 ? Promise.reject(new Error(`copy failed ${attempts}`)) : Promise.resolve('copied');
        },
        logger,
      ),
    );

    const job = await queue.add('replicate', { n: 7 });
    await waitFor('the job to complete', async () => (await job.getState()) === 'completed', 15_000, 50);
    expect(attempts).toBe(3);
    const failures = lines.filter((l) => l.msg === 'job failed');
    expect(failures.map((l) => [l.queue, l.attempt])).toEqual([
      ['replication', 1],
      ['replication', 2],
    ]);
  });

  it('logs a job that failed its last attempt at error and hands it to onExhausted: never silent', async () => {
    const { logger, lines } = capturingLogger();
    const queue = createQueue<{ n: number }>(QUEUES.audit, connection, prefix, {
      defaultJobOptions: { attempts: 2, backoff: { type: 'fixed', delay: 20 } },
    });
    queues.push(queue as Queue);
    const exhausted: { n: number; message: string }[] = [];
    workers.push(
      startWorker<{ n: number }>(
        QUEUES.audit,
        redis,
        prefix,
        () => Promise.reject(new Error('the event cannot be written')),
        logger,
        1,
        (job, error) => exhausted.push({ n: job.data.n, message: error.message }),
      ),
    );

    const job = await queue.add('auth.login', { n: 9 });
    await waitFor('the job to fail for good', async () => (await job.getState()) === 'failed', 15_000, 50);
    await waitFor('onExhausted to be called', () => exhausted.length === 1, 5_000, 20);
    expect(exhausted).toEqual([{ n: 9, message: 'the event cannot be written' }]);
    const levels = lines.filter((l) => l.queue === 'audit').map((l) => [(l as { level?: number }).level, l.attempt]);
    expect(levels).toEqual([
      [40, 1],
      [50, 2],
    ]);
  });

  it('runs jobs on a Redis that needs an ACL user and TLS (rediss:// with REDIS_CA_FILE)', async () => {
    const pki = await createTestPki(['redis']);
    const files = pki.env('redis');
    const secured = await RedisServer.start({
      password: 'default-s3cret',
      aclUser: { name: 'jobs', password: 'jobs-s3cret' },
      tls: { certFile: files.INTERNAL_CERT_FILE, keyFile: files.INTERNAL_KEY_FILE, caFile: files.INTERNAL_CA_FILE },
    });
    const settings = secured.settings('acl-user');
    const securedConnection = createJobsConnection(settings);
    try {
      const { logger, lines } = capturingLogger();
      const queue = createQueue<{ n: number }>(QUEUES.maintenance, securedConnection, prefix);
      const seen: number[] = [];
      const worker = startWorker<{ n: number }>(
        QUEUES.maintenance,
        settings,
        prefix,
        (job) => Promise.resolve(seen.push(job.data.n)),
        logger,
      );
      try {
        await queue.add('check', { n: 1 });
        await waitFor('the job to be processed over TLS', () => seen.length === 1, 15_000, 50);
        expect(await securedConnection.acl('WHOAMI')).toBe('jobs');
        expect(lines.filter((l) => l.msg === 'worker error')).toEqual([]);
      } finally {
        await worker.close();
        await queue.close();
      }
    } finally {
      securedConnection.disconnect();
      await secured.destroy();
      await pki.remove();
    }
  });
});
