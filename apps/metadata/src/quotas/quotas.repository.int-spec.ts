import { randomUUID } from 'node:crypto';
import { loadConfig, type MetadataConfig, metadataConfigSchema } from '@cloudstore/config';
import { Metrics } from '@cloudstore/observability';
import { createTestDataSource, type TestDataSource, waitFor } from '@cloudstore/testing';
import type { DataSource } from 'typeorm';
import { createMetadataDataSource, METADATA_SCHEMA } from '../database/metadata-data-source';
import { QuotasRepository } from './quotas.repository';
import { NEAR_QUOTA_FRACTION, QuotasService } from './quotas.service';

const BASIC = 1000;
const PREMIUM = 5000;

describe(QuotasRepository.name, () => {
  let db: TestDataSource;
  let dataSource: DataSource;
  let sut: QuotasRepository;
  let config: MetadataConfig;

  beforeAll(async () => {
    db = await createTestDataSource(createMetadataDataSource, METADATA_SCHEMA);
    dataSource = db.dataSource;
    config = loadConfig(metadataConfigSchema, {
      DATABASE_URL: db.db.url,
      DEFAULT_QUOTA_BYTES: String(BASIC),
      PREMIUM_QUOTA_BYTES: String(PREMIUM),
      ADMIN_QUOTA_BYTES: '0',
    });
    sut = new QuotasRepository(dataSource, config);
  });

  afterAll(async () => {
    await db.drop();
  });

  async function newUser(role = 'basic'): Promise<string> {
    const userId = randomUUID();
    await sut.ensure(userId, role);
    return userId;
  }

  it("takes the role's default limit, a custom one over it, and none for an admin", async () => {
    const basic = await newUser();
    expect(await sut.find(basic)).toEqual({ usedBytes: 0, reservedBytes: 0, limitBytes: BASIC });
    await sut.ensure(basic, 'premium');
    expect((await sut.find(basic))?.limitBytes).toBe(PREMIUM);
    await sut.set(basic, { quotaBytes: 123 });
    expect((await sut.find(basic))?.limitBytes).toBe(123);
    await sut.set(basic, { quotaBytes: null });
    expect((await sut.find(basic))?.limitBytes).toBe(PREMIUM);
    const admin = await newUser('admin');
    expect((await sut.find(admin))?.limitBytes).toBeNull();
    expect(await sut.reserve(admin, Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(await sut.find(randomUUID())).toBeUndefined();
  });

  it('reserves only what fits with what is used and held, and releases it', async () => {
    const user = await newUser();
    expect(await sut.reserve(user, 600)).toBe(true);
    expect(await sut.reserve(user, 500)).toBe(false);
    expect(await sut.reserve(user, 400)).toBe(true);
    expect(await sut.find(user)).toMatchObject({ reservedBytes: 1000 });
    await sut.release(user, 400);
    await sut.release(user, 5000);
    expect(await sut.find(user)).toMatchObject({ reservedBytes: 0 });
  });

  it('charges a commit from its reservation and refunds a deletion, counting files', async () => {
    const user = await newUser();
    await sut.reserve(user, 800);
    await dataSource.transaction((m) => sut.charge(user, 800, 750, m));
    expect(await sut.find(user)).toMatchObject({ usedBytes: 750, reservedBytes: 0 });
    expect(await sut.fileCount(user)).toBe(1);
    expect(await dataSource.transaction((m) => sut.chargeRestored(user, 300, m))).toBe(false);
    await dataSource.transaction((m) => sut.refund(user, 750, m));
    expect(await sut.find(user)).toMatchObject({ usedBytes: 0 });
    expect(await sut.fileCount(user)).toBe(0);
    expect(await dataSource.transaction((m) => sut.chargeRestored(user, 750, m))).toBe(true);
    expect(await sut.fileCount(user)).toBe(1);
  });

  it('lets twenty concurrent reservations of 100 bytes into 1000 exactly ten times', async () => {
    const user = await newUser();
    const results = await Promise.all(Array.from({ length: 20 }, () => sut.reserve(user, 100)));
    expect(results.filter(Boolean)).toHaveLength(10);
    expect(await sut.find(user)).toMatchObject({ reservedBytes: 1000 });
  });

  /** A user of `role` (with a custom quota when given) who has committed `bytes`. */
  async function userUsing(role: string, bytes: number, quotaBytes?: number): Promise<string> {
    const user = await newUser(role);
    if (quotaBytes !== undefined) await sut.set(user, { quotaBytes });
    expect(await sut.reserve(user, bytes)).toBe(true);
    await dataSource.transaction((m) => sut.charge(user, bytes, bytes, m));
    return user;
  }

  it('counts the users whose used bytes reach a share of their limit, never one without a limit', async () => {
    const before = await sut.countNearLimit(0.9);
    await userUsing('basic', 899);
    await userUsing('basic', 900);
    await userUsing('basic', 1000);
    await userUsing('premium', 4600);
    await userUsing('premium', 900);
    await userUsing('basic', 95, 100);
    await userUsing('basic', 95, 10_000);
    await userUsing('admin', 1_000_000);
    expect(await sut.countNearLimit(0.9)).toBe(before + 4);
  });

  it('exposes that count as cloudstore_users_near_quota, read at scrape time', async () => {
    const metrics = new Metrics('metadata');
    // Only the gauge is used: the service's other collaborators stay out of this test.
    new QuotasService(sut, {} as never, {} as never, config, metrics);
    const gauge = async () => {
      const { body } = await metrics.render();
      const line = body.split('\n').find((l) => l.startsWith('cloudstore_users_near_quota{'));
      return { line, value: Number(line?.split(' ').pop()) };
    };
    const before = await gauge();
    expect(before.line).toContain(`threshold="${NEAR_QUOTA_FRACTION}"`);
    expect(before.value).toBe(await sut.countNearLimit(NEAR_QUOTA_FRACTION));
    await userUsing('basic', 950);
    expect((await gauge()).value).toBe(before.value + 1);
  });

  it('holds the owner row locked until the transaction ends', async () => {
    const user = await newUser();
    const order: string[] = [];
    let unlock: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (unlock = resolve));
    let locked: () => void = () => undefined;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const first = dataSource.transaction(async (m) => {
      await sut.lock(user, m);
      locked();
      await held;
      order.push('first done');
    });
    await isLocked;
    const second = dataSource.transaction(async (m) => {
      await sut.lock(user, m);
      order.push('second locked');
    });
    // The second waits for the row: the database shows it blocked on a lock until the first lets go.
    await waitFor(
      'the second transaction waiting for the row',
      async () => {
        const [row] = await dataSource.query<{ n: string }[]>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
        );
        return Number(row?.n) === 1;
      },
      5000,
      10,
    );
    expect(order).toEqual([]);
    unlock();
    await Promise.all([first, second]);
    expect(order).toEqual(['first done', 'second locked']);
  });
});
