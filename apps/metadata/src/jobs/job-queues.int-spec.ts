import { randomBytes } from 'node:crypto';
import { loadConfig, metadataConfigSchema } from '@cloudstore/config';
import { testRedisClient, testRedisSettings } from '@cloudstore/testing';
import { JobQueues } from './job-queues';

describe(`${JobQueues.name} (real Redis)`, () => {
  const config = loadConfig(metadataConfigSchema, {
    ...testRedisSettings(),
    REDIS_KEY_PREFIX: `queuetest${randomBytes(4).toString('hex')}`,
  });
  let sut: JobQueues;

  beforeAll(() => {
    sut = new JobQueues(config);
  });

  afterAll(async () => {
    await sut.replication.obliterate({ force: true });
    await sut.maintenance.obliterate({ force: true });
    await sut.onApplicationShutdown();
    const redis = testRedisClient(config);
    const keys = await redis.keys(`${config.REDIS_KEY_PREFIX}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('counts a waiting node inventory as repair work not done: the cluster is not settled', async () => {
    expect(await sut.repairJobCounts()).toMatchObject({ waiting: 0, active: 0 });
    await sut.reconcileNode('node-0');
    expect(await sut.repairJobCounts()).toMatchObject({ waiting: 1, active: 0 });
    await sut.replicate('chunk-1');
    expect(await sut.repairJobCounts()).toMatchObject({ waiting: 2, active: 0 });
    expect(await sut.replicationJobCounts()).toMatchObject({ waiting: 1 });
    expect(await sut.maintenanceJobCounts()).toMatchObject({ waiting: 1 });
  });
});
