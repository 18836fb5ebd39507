import { createTestDataSource, newUserInput, type TestDataSource, uniqueName } from '@cloudstore/testing';
import { AUTH_SCHEMA, createAuthDataSource } from '../database/auth-data-source';
import { UsersRepository } from './users.repository';

describe(UsersRepository.name, () => {
  let db: TestDataSource;
  let sut: UsersRepository;

  beforeAll(async () => {
    db = await createTestDataSource(createAuthDataSource, AUTH_SCHEMA);
    sut = new UsersRepository(db.dataSource);
  });

  afterAll(async () => {
    await db.drop();
  });

  function newUser(overrides: Partial<{ username: string; email: string }> = {}) {
    const { username, email } = newUserInput(overrides);
    return sut.insert({
      username,
      usernameKey: username.toLowerCase(),
      email,
      emailKey: email.toLowerCase(),
      passwordHash: `$argon2id$hash-of-${username}`,
      role: 'basic',
    });
  }

  it('finds a user for login by username or email, case-insensitively, with the secrets only there', async () => {
    const user = await newUser({ username: uniqueName('Mixed') });
    expect(await sut.findForLogin(`  ${user.username.toUpperCase()} `)).toMatchObject({
      id: user.id,
      passwordHash: `$argon2id$hash-of-${user.username}`,
      totpSecret: null,
    });
    expect((await sut.findForLogin(user.email.toUpperCase()))?.id).toBe(user.id);
    expect(await sut.findForLogin('nobody@example.com')).toBeNull();
    const plain = await sut.findById(user.id);
    expect(plain).not.toHaveProperty('passwordHash');
    expect(plain).not.toHaveProperty('totpSecret');
  });

  it('refuses a taken username or email, whatever their case, with the contract codes', async () => {
    const user = await newUser();
    await expect(newUser({ username: user.username.toUpperCase(), email: `${uniqueName()}@example.com` })).rejects.toMatchObject({
      code: 'USERNAME_TAKEN',
    });
    await expect(newUser({ email: user.email.toUpperCase() })).rejects.toMatchObject({ code: 'EMAIL_TAKEN' });
  });

  it('lets exactly one of five concurrent inserts of one username win', async () => {
    const username = uniqueName('race');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => newUser({ username, email: `${username}.${i}@example.com` })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o.reason as { code: string }).code)).toEqual(
      Array(4).fill('USERNAME_TAKEN'),
    );
  });

  it('pages users in creation order and filters with % and _ taken literally', async () => {
    const tag = uniqueName('pg');
    const users = [
      await newUser({ username: `${tag}_a` }),
      await newUser({ username: `${tag}xb` }),
      await newUser({ username: `${tag}_c` }),
    ];
    const [page, total] = await sut.list(10, 0, `${tag}_`);
    expect(page.map((u) => u.id)).toEqual([users[0]?.id, users[2]?.id]);
    expect(total).toBe(2);
    expect((await sut.list(1, 1, tag))[0].map((u) => u.id)).toEqual([users[1]?.id]);
  });

  it('enables only the pending TOTP secret, and claims each time step once, newest only', async () => {
    const user = await newUser();
    await sut.setPendingTotpSecret(user.id, 'SECRET1');
    expect(await sut.enableTotp(user.id, 'OTHER', 100)).toBe(false);
    expect(await sut.enableTotp(user.id, 'SECRET1', 100)).toBe(true);
    expect(await sut.enableTotp(user.id, 'SECRET1', 100)).toBe(false);
    expect(await sut.claimTotpStep(user.id, 100)).toBe(false);
    const claims = await Promise.all(Array.from({ length: 5 }, () => sut.claimTotpStep(user.id, 101)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await sut.claimTotpStep(user.id, 100)).toBe(false);
    await sut.disableTotp(user.id);
    expect(await sut.findByIdWithSecrets(user.id)).toMatchObject({ totpSecret: null, totpEnabledAt: null, totpLastStep: null });
  });

  it('changes role and active flag, and answers the updated user', async () => {
    const user = await newUser();
    expect(await sut.update(user.id, { role: 'premium', active: false })).toMatchObject({ role: 'premium', active: false });
    expect(await sut.update(user.id, {})).toMatchObject({ role: 'premium' });
  });
});
