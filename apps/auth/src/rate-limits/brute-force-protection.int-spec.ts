import { randomUUID } from 'node:crypto';
import { type AuthConfig, authConfigSchema, loadConfig } from '@cloudstore/config';
import { createTestRedis, newOrigin, type TestRedis, waitFor } from '@cloudstore/testing';
import { ACCOUNT_BACKOFF_CEILING_SECONDS, BruteForceProtection } from './brute-force-protection.service';

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
      OTP_MAX_ATTEMPTS_PER_ACCOUNT: '4',
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

  async function lockedFor(account: string, address: string | undefined): Promise<number | undefined> {
    try {
      await sut.assertPasswordAttemptAllowed(account, address);
      return undefined;
    } catch (error) {
      expect(error).toMatchObject({ code: 'ACCOUNT_LOCKED' });
      return (error as { retryAfterSeconds: number }).retryAfterSeconds;
    }
  }

  it('counts nothing before a failure: any number of attempts at once pass the check', async () => {
    const account = randomUUID();
    const { clientAddress } = newOrigin();
    const results = await outcomes(Array.from({ length: 20 }, () => sut.assertPasswordAttemptAllowed(account, clientAddress)));
    expect(results).toEqual(Array(20).fill('ok'));
  });

  it('locks the attacked (account, address) pair after LOGIN_MAX_ATTEMPTS failures, with Retry-After', async () => {
    const account = randomUUID();
    const attacker = newOrigin().clientAddress;
    const owner = newOrigin().clientAddress;
    await sut.recordSignIn(account, owner);
    for (let i = 0; i < 2; i += 1) await sut.recordPasswordFailure(account, attacker);
    expect(await lockedFor(account, attacker)).toBeUndefined();
    await sut.recordPasswordFailure(account, attacker);
    expect(await lockedFor(account, attacker)).toBeGreaterThan(500);
    // The owner's address is another pair, and known to the account: the back-off does not apply to it.
    expect(await lockedFor(account, owner)).toBeUndefined();
    // A completed login from the owner's address leaves the attacker's pair locked.
    await sut.recordSignIn(account, owner);
    expect(await lockedFor(account, attacker)).toBeGreaterThan(500);
  });

  it('unlocks the pair and the address when the window ends', async () => {
    // A 5 s window; failures are recorded directly, so no password hashing races it.
    const short = new BruteForceProtection({ ...config, LOGIN_WINDOW_SECONDS: 5 }, redis.client);
    const account = randomUUID();
    const attacker = newOrigin().clientAddress;
    for (let i = 0; i < config.LOGIN_MAX_ATTEMPTS; i += 1) await short.recordPasswordFailure(account, attacker);
    for (let i = 0; i < config.IP_MAX_ATTEMPTS; i += 1) await short.chargeAddress(attacker);
    const locked = await short
      .assertPasswordAttemptAllowed(account, attacker)
      .catch((e: { code: string; retryAfterSeconds: number }) => e);
    expect(locked).toMatchObject({ code: 'ACCOUNT_LOCKED' });
    expect((locked as { retryAfterSeconds: number }).retryAfterSeconds).toBeLessThanOrEqual(5);
    await expect(short.chargeAddress(attacker)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await waitFor('the pair unlocked', () => short.assertPasswordAttemptAllowed(account, attacker).then(() => true), 15_000, 100);
    // The address's window began with its first charge, after the pair's (and Redis counts it in
    // whole seconds): it may end a moment later. A refused charge does not lengthen it.
    await waitFor(
      'the address unlocked',
      () =>
        short.chargeAddress(attacker).then(
          () => true,
          () => false,
        ),
      15_000,
      100,
    );
  });

  it('backs the account off exponentially for addresses its owner never signed in from, up to the ceiling', async () => {
    const account = randomUUID();
    const stranger = newOrigin().clientAddress;
    const fail = () => sut.recordPasswordFailure(account, newOrigin().clientAddress);
    await fail();
    await fail();
    expect(await lockedFor(account, stranger)).toBeUndefined();
    await fail(); // the LOGIN_MAX_ATTEMPTS-th failure: 1 s
    expect(await lockedFor(account, stranger)).toBe(1);
    for (let i = 0; i < 3; i += 1) await fail(); // 2, 4, then 8 s
    expect(await lockedFor(account, stranger)).toBe(8);
    for (let i = 0; i < 20; i += 1) await fail();
    expect(await lockedFor(account, stranger)).toBe(ACCOUNT_BACKOFF_CEILING_SECONDS);
    const owner = newOrigin().clientAddress;
    await sut.recordSignIn(account, owner);
    expect(await lockedFor(account, owner)).toBeUndefined();
  });

  it('caps second-factor guesses per account across addresses: exactly one guess reaches the cap', async () => {
    const user = randomUUID();
    const charges = await Promise.all(Array.from({ length: 10 }, () => sut.chargeSecondFactorGuess(user)));
    expect(charges.filter((c) => c === 'allowed')).toHaveLength(4);
    expect(charges.filter((c) => c === 'cap-reached')).toHaveLength(1);
    expect(charges.filter((c) => c === 'capped')).toHaveLength(5);
    const other = randomUUID();
    for (let i = 0; i < 6; i += 1) {
      expect(await sut.chargeSecondFactorGuess(other)).toBe('allowed');
      await sut.refundSecondFactorGuess(other);
    }
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

  it('limits wrong authenticator codes, mailed codes and reset mails per account, each on its own counter', async () => {
    const user = randomUUID();
    for (let i = 0; i < 3; i += 1) await sut.chargeCodeAttempt(user);
    await expect(sut.chargeCodeAttempt(user)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await sut.chargeMail(user);
    await sut.chargeMail(user);
    await expect(sut.chargeMail(user)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(await sut.tryChargeResetMail(user)).toBe(true);
    expect(await sut.tryChargeResetMail(user)).toBe(true);
    expect(await sut.tryChargeResetMail(user)).toBe(false);
    await expect(sut.assertPasswordAttemptAllowed(user, undefined)).resolves.toBeUndefined();
  });

  it('keeps its counters under the configured key prefix only', async () => {
    await sut.recordPasswordFailure(randomUUID(), newOrigin().clientAddress);
    await sut.recordSignIn(randomUUID(), newOrigin().clientAddress);
    const keys = await redis.client.keys(`*${redis.keyPrefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.startsWith(`${redis.keyPrefix}:limit:`))).toBe(true);
  });
});
