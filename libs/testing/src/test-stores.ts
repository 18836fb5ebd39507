import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamicModule, INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { createTestDataSource, type TestDataSource } from './test-data-source';
import { createTestRedis, type TestRedis, testRedisClient } from './test-redis';

/**
 * Everything a service keeps state in, fresh for one test file: its database (migrated), a Redis
 * key prefix of its own and a data folder; `env` names them as the service's configuration does.
 */
export interface ServiceTestStores {
  readonly db: TestDataSource;
  readonly dataSource: DataSource;
  readonly redis: TestRedis;
  readonly dataDir: string;
  readonly env: {
    DATABASE_URL: string;
    REDIS_URL: string;
    REDIS_CA_FILE?: string;
    REDIS_KEY_PREFIX: string;
    DATA_DIR: string;
  };
  drop(): Promise<void>;
}

export async function createServiceTestStores(
  createDataSource: (url: string) => DataSource,
  schema: string,
): Promise<ServiceTestStores> {
  const db = await createTestDataSource(createDataSource, schema);
  const redis = await createTestRedis();
  const dataDir = await mkdtemp(join(tmpdir(), 'cloudstore-test-'));
  return {
    db,
    dataSource: db.dataSource,
    redis,
    dataDir,
    env: {
      DATABASE_URL: db.db.url,
      REDIS_URL: redis.url,
      ...(redis.settings.REDIS_CA_FILE ? { REDIS_CA_FILE: redis.settings.REDIS_CA_FILE } : {}),
      REDIS_KEY_PREFIX: redis.keyPrefix,
      DATA_DIR: dataDir,
    },
    drop: async () => {
      await redis.drop();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A service's Nest module running on test stores, without any server: its providers, as the service wires them. */
export interface TestApplication {
  readonly stores: ServiceTestStores;
  readonly app: INestApplicationContext;
  /** A BullMQ connection to the test Redis, for the queues the module is given. */
  readonly jobs: Redis;
  close(): Promise<void>;
}

export async function startTestApplication(
  createDataSource: (url: string) => DataSource,
  schema: string,
  module: (stores: ServiceTestStores, jobs: Redis) => DynamicModule,
): Promise<TestApplication> {
  const stores = await createServiceTestStores(createDataSource, schema);
  // As @cloudstore/jobs' createJobsConnection (which cannot be imported here: its tests use this lib).
  const jobs = testRedisClient(stores.redis.settings, { maxRetriesPerRequest: null });
  const app = await NestFactory.createApplicationContext(module(stores, jobs), { logger: false });
  return {
    stores,
    app,
    jobs,
    close: async () => {
      await app.close();
      jobs.disconnect();
      await stores.drop();
    },
  };
}
