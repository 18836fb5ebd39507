import { randomBytes } from 'node:crypto';
import { loadConfig, metadataConfigSchema } from '@cloudstore/config';
import { testRedisClient, testRedisSettings, waitFor } from '@cloudstore/testing';
import type { Redis } from 'ioredis';
import { type HeldLock, LockLostError } from '@cloudstore/redis';
import { ChunkLocks } from './chunk-locks';

// Short, so that outliving it four times takes seconds; not so short that a busy machine's
// event-loop stalls let it lapse between renewals (300 ms did, once, under a load average of 30).
const TTL_MS = 1000;

describe(`${ChunkLocks.name} (real Redis, ${TTL_MS} ms time to live)`, () => {
  const config = loadConfig(metadataConfigSchema, {
    ...testRedisSettings(),
    REDIS_KEY_PREFIX: `locktest${randomBytes(4).toString('hex')}`,
  });
  let redis: Redis;
  let sut: ChunkLocks;

  beforeAll(() => {
    redis = testRedisClient(config);
    sut = new ChunkLocks(config, redis, TTL_MS);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${config.REDIS_KEY_PREFIX}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const keyOf = (chunkId: string) => `${config.REDIS_KEY_PREFIX}:lock:chunk:${chunkId}`;

  /** A step the test holds until it says go: the slowed part of the work. */
  function gate(): { reached: Promise<void>; pass: () => Promise<void>; open: () => void } {
    let reached!: () => void;
    let open!: () => void;
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    const opened = new Promise<void>((resolve) => (open = resolve));
    return {
      reached: reachedPromise,
      pass: () => {
        reached();
        return opened;
      },
      open,
    };
  }

  it('is renewed while the work runs past its time to live, and refused to a second taker throughout', async () => {
    const chunkId = `chunk-${randomBytes(4).toString('hex')}`;
    const step = gate();
    let recorded = false;
    const first = sut.withLock(chunkId, async (lock) => {
      await step.pass();
      await lock.fence();
      recorded = true;
      return 'done';
    });
    await step.reached;
    const started = Date.now();
    let refusals = 0;
    // Keep trying to take it over until the work has run for four times the time to live.
    await waitFor(
      'the work to outlive its lock four times over',
      async () => {
        expect(await sut.withLock(chunkId, () => Promise.resolve('second'))).toBeUndefined();
        refusals += 1;
        return Date.now() - started > 4 * TTL_MS;
      },
      20_000,
      25,
    );
    expect(refusals).toBeGreaterThan(10);
    expect(await redis.pttl(keyOf(chunkId))).toBeGreaterThan(0);
    step.open();
    await expect(first).resolves.toBe('done');
    expect(recorded).toBe(true);
    // Released at the end: free for the next taker at once.
    expect(await redis.exists(keyOf(chunkId))).toBe(0);
    await expect(sut.withLock(chunkId, () => Promise.resolve('next'))).resolves.toBe('next');
  });

  it.each([
    ['deleted', (key: string) => redis.del(key), null],
    ['overwritten', (key: string) => redis.set(key, 'someone-else', 'PX', 60_000), 'someone-else'],
  ])('stops the work before its next recording step when the lock is %s in Redis', async (_how, steal, holderAfter) => {
    const chunkId = `chunk-${randomBytes(4).toString('hex')}`;
    const step = gate();
    let held!: HeldLock;
    const recorded: string[] = [];
    const first = sut.withLock(chunkId, async (lock) => {
      held = lock;
      await lock.fence();
      recorded.push('before');
      await step.pass();
      await lock.fence();
      recorded.push('after');
    });
    await step.reached;
    await steal(keyOf(chunkId));
    // The watchdog notices at its next renewal and tells the work.
    await waitFor('the watchdog to see the lock lost', () => held.signal.aborted, 5000, 20);
    expect(held.signal.reason).toBeInstanceOf(LockLostError);
    step.open();
    await expect(first).rejects.toBeInstanceOf(LockLostError);
    expect(recorded).toEqual(['before']);
    // A new holder's lock is left alone.
    expect(await redis.get(keyOf(chunkId))).toBe(holderAfter);
  });

  it('fences at once, without waiting for the watchdog, when the lock was taken over', async () => {
    const chunkId = `chunk-${randomBytes(4).toString('hex')}`;
    const recorded: string[] = [];
    const work = sut.withLock(chunkId, async (lock) => {
      await redis.set(keyOf(chunkId), 'someone-else', 'PX', 60_000);
      await lock.fence();
      recorded.push('after');
    });
    await expect(work).rejects.toBeInstanceOf(LockLostError);
    expect(recorded).toEqual([]);
  });
});
