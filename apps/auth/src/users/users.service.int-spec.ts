import { AccessTokenVerifier } from '@cloudstore/access-tokens';
import { type AuditEvent } from '@cloudstore/jobs';
import { newOrigin, newUserInput } from '@cloudstore/testing';
import type { Queue } from 'bullmq';
import { TokenIssuer } from '../tokens/token-issuer.service';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';
import { type AuthTestApplication, startAuthTestApplication } from '../auth-test-application.test-helper';

const ADMIN = newUserInput({ username: 'boot_admin' });

/** Accounts against the real database and Redis: registration, the bootstrap admin, role changes. */
describe(UsersService.name, () => {
  let test: AuthTestApplication;
  let auditQueue: Queue<AuditEvent>;
  let users: UsersRepository;
  let sut: UsersService;

  beforeAll(async () => {
    test = await startAuthTestApplication({
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
    });
    auditQueue = test.auditQueue;
    users = test.app.get(UsersRepository);
    sut = test.app.get(UsersService);
  });

  afterAll(async () => {
    await test.close();
  });

  async function admin() {
    const found = await users.findByUsernameKey(ADMIN.username);
    if (!found) throw new Error('no bootstrap admin');
    return found;
  }

  it('creates the bootstrap admin at start, once however often it starts, audited', async () => {
    expect(await admin()).toMatchObject({ role: 'admin', active: true });
    await sut.onApplicationBootstrap();
    await sut.onApplicationBootstrap();
    const [row] = await test.stores.dataSource.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM auth.users WHERE role = 'admin'`,
    );
    expect(row?.n).toBe('1');
    const jobs = await auditQueue.getJobs(['waiting', 'completed', 'active', 'delayed', 'failed']);
    expect(jobs.filter((j) => j.data.operation === 'admin.bootstrap')).toHaveLength(1);
  });

  it('registers a user with a normalised name, an argon2id hash and the basic role', async () => {
    const input = newUserInput();
    const user = await sut.register({ ...input, email: input.email.toUpperCase() }, newOrigin());
    // The local part is kept as given, the domain lowercased; lookups ignore case.
    expect(user).toMatchObject({ username: input.username, email: `${input.username.toUpperCase()}@example.com`, role: 'basic' });
    expect((await users.findForLogin(input.email))?.passwordHash).toMatch(/^\$argon2id\$/);
  });

  it('refuses a weak password, audited as a failed registration', async () => {
    const input = newUserInput({ password: 'Password123!' });
    await expect(sut.register(input, newOrigin())).rejects.toMatchObject({ code: 'WEAK_PASSWORD' });
    expect(await users.findForLogin(input.username)).toBeNull();
    const jobs = await auditQueue.getJobs(['waiting', 'completed', 'active', 'delayed', 'failed']);
    expect(jobs.find((j) => j.data.username === input.username)?.data).toMatchObject({
      operation: 'auth.register',
      status: 'failure',
      errorCode: 'WEAK_PASSWORD',
    });
  });

  it('lets one of three concurrent registrations of one username win', async () => {
    const input = newUserInput();
    const outcomes = await Promise.allSettled(
      [0, 1, 2].map((i) => sut.register({ ...input, email: `${i}.${input.email}` }, newOrigin())),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o.reason as { code: string }).code)).toEqual([
      'USERNAME_TAKEN',
      'USERNAME_TAKEN',
    ]);
  });

  it("changes a user's role for an admin only, revoking the user's tokens at once", async () => {
    const user = await sut.register(newUserInput(), newOrigin());
    const tokens = await test.app.get(TokenIssuer).issuePair(user, newOrigin());
    await expect(sut.update(user.id, user.id, { role: 'admin' }, newOrigin())).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });
    expect(await sut.update((await admin()).id, user.id, { role: 'premium' }, newOrigin())).toMatchObject({ role: 'premium' });
    await expect(test.app.get(AccessTokenVerifier).verify(tokens.accessToken.token)).rejects.toMatchObject({
      code: 'TOKEN_REVOKED',
    });
    await expect(sut.update((await admin()).id, (await admin()).id, { role: 'basic' }, newOrigin())).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      sut.update((await admin()).id, '00000000-0000-4000-8000-000000000000', { active: false }, newOrigin()),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
