import { randomUUID } from 'node:crypto';
import { createTestRedis, type TestRedis } from '@cloudstore/testing';
import { TokenRevocations } from '@cloudstore/access-tokens';

describe(`${TokenRevocations.name} (real Redis)`, () => {
  let redis: TestRedis;
  let sut: TokenRevocations;

  beforeAll(async () => {
    redis = await createTestRedis('revocations');
    sut = new TokenRevocations(redis.client, redis.keyPrefix);
  });

  afterAll(() => redis.drop());

  const token = () => ({ tokenId: randomUUID(), familyId: randomUUID(), userId: randomUUID(), issuedAtMs: Date.now() });
  const expiresAt = () => Math.floor(Date.now() / 1000) + 60;
  const isRevoked = (t: ReturnType<typeof token>, spentTokenCounts?: boolean) =>
    sut.isRevoked(t.tokenId, t.familyId, t.userId, t.issuedAtMs, spentTokenCounts === undefined ? {} : { spentTokenCounts });

  it('counts a token spent by a renewal as revoked, unless asked to ignore that alone', async () => {
    const renewed = token();
    expect(await sut.revokeToken(renewed.tokenId, expiresAt())).toBe(true);
    expect(await isRevoked(renewed)).toBe(true);
    expect(await isRevoked(renewed, false)).toBe(false);
  });

  it('always counts an ended sign-in (family) and a user-wide revocation', async () => {
    const loggedOut = token();
    await sut.revokeToken(loggedOut.tokenId, expiresAt());
    await sut.revokeFamily(loggedOut.familyId, 60);
    expect(await isRevoked(loggedOut, false)).toBe(true);

    const deactivated = token();
    await sut.revokeUserTokensIssuedBefore(deactivated.userId, Date.now(), 60);
    expect(await isRevoked(deactivated, false)).toBe(true);
    expect(await isRevoked(token(), false)).toBe(false);
  });
});
