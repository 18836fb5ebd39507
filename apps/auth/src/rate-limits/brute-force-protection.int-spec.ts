import { randomUUID } from 'node:crypto';
import { type AuthConfig, authConfigSchema, loadConfig } from '@cloudstore/config';
import { createTestRedis, newOrigin, type TestRedis } from '@cloudstore/testing';
import { BruteForceProtection } from './brute-force-protection.service';

/** The limits against guessing and flooding, on the real Redis (atomic across auth replicas). */
describe(BruteForceProtection.name, () => {
  let redis: TestRedis;
  let config: AuthConfig;
  let sut: BruteForceProtection;

  beforeAll(async () => {
    redis = await createTestRedis();
    config = loadConfig(authConfigSchema, {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      LOGIN_MAX_ATTEMPTS: '3',
      LOGIN_WINDOW_SECONDS: '600',
      IP_MAX_ATTEMPTS: '4',
      OTP_MAILS_PER_ACCOUNT: '2',
    });
    sut = new BruteForceProtection(config, redis.client);
  });

  afterAll(async () => {
    await redis.drop();
  });

  async function outcomes(attempts: Promise<void>[]): Promise<string[]> {
    return Promise.all(
      attempts.map((a) =>
        a.then(
          () => 'ok',
          (e: { code: string }) => e.code,
        ),
      ),
    );
  }

  it('lets LOGIN_MAX_ATTEMPTS password attempts of an account through, however many arrive at once', async () => {
    const account = randomUUID();
    const results = await outcomes(Array.from({ length: 10 }, () => sut.chargePasswordAttempt(account)));
    expect(results.filter((r) => r === 'ok')).toHaveLength(3);
    expect(results.filter((r) => r === 'ACCOUNT_LOCKED')).toHaveLength(7);
    await expect(sut.chargePasswordAttempt(account)).rejects.toMatchObject({
      code: 'ACCOUNT_LOCKED',
      retryAfterSeconds: expect.any(Number),
    });
    // Another account is not touched.
    await expect(sut.chargePasswordAttempt(randomUUID())).resolves.toBeUndefined();
  });

  it('does not count refunded attempts, and a complete login starts the account afresh', async () => {
    const account = randomUUID();
    for (let i = 0; i < 5; i += 1) {
      await sut.chargePasswordAttempt(account);
      await sut.refundPasswordAttempt(account);
    }
    await sut.chargePasswordAttempt(account);
    await sut.chargePasswordAttempt(account);
    await sut.resetAccount(account);
    for (let i = 0; i < 3; i += 1) await sut.chargePasswordAttempt(account);
    await expect(sut.chargePasswordAttempt(account)).rejects.toMatchObject({ code: 'ACCOUNT_LOCKED' });
  });

  it('limits attempts per client address, and none without an address', async () => {
    const { clientAddress } = newOrigin();
    const results = await outcomes(Array.from({ length: 6 }, () => sut.chargeAddress(clientAddress)));
    expect(results.filter((r) => r === 'RATE_LIMITED')).toHaveLength(2);
    // A right attempt is refunded: it leaves room for one more.
    const other = newOrigin().clientAddress;
    for (let i = 0; i < 4; i += 1) await sut.chargeAddress(other);
    await sut.refundAddress(other);
    await expect(sut.chargeAddress(other)).resolves.toBeUndefined();
    await expect(sut.chargeAddress(other)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    for (let i = 0; i < 10; i += 1) await sut.chargeAddress(undefined);
  });

  it('limits wrong authenticator codes and mailed codes per account, each on its own counter', async () => {
    const user = randomUUID();
    for (let i = 0; i < 3; i += 1) await sut.chargeCodeAttempt(user);
    await expect(sut.chargeCodeAttempt(user)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await sut.chargeMail(user);
    await sut.chargeMail(user);
    await expect(sut.chargeMail(user)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await expect(sut.chargePasswordAttempt(user)).resolves.toBeUndefined();
  });

  it('keeps its counters under the configured key prefix only', async () => {
    await sut.chargePasswordAttempt(randomUUID());
    const keys = await redis.client.keys(`*${redis.keyPrefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.startsWith(`${redis.keyPrefix}:limit:`))).toBe(true);
  });
});
