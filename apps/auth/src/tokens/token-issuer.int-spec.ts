import { AccessTokenVerifier } from '@cloudstore/access-tokens';
import { type AuditEvent } from '@cloudstore/jobs';
import { newOrigin, newUserInput, waitFor } from '@cloudstore/testing';
import type { Queue } from 'bullmq';
import type { UserEntity } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { TokenIssuer } from './token-issuer.service';
import { type AuthTestApplication, startAuthTestApplication } from '../auth-test-application.test-helper';

/** Token issue, rotation and revocation against the real database and Redis, wired as the auth service wires them. */
describe(TokenIssuer.name, () => {
  let test: AuthTestApplication;
  let auditQueue: Queue<AuditEvent>;
  let users: UsersRepository;
  let verifier: AccessTokenVerifier;
  let sut: TokenIssuer;

  beforeAll(async () => {
    test = await startAuthTestApplication({ REFRESH_TOKEN_TTL_SECONDS: '60' });
    auditQueue = test.auditQueue;
    users = test.app.get(UsersRepository);
    verifier = test.app.get(AccessTokenVerifier);
    sut = test.app.get(TokenIssuer);
  });

  afterAll(async () => {
    await test.close();
  });

  async function newUser(): Promise<UserEntity> {
    const { username, email } = newUserInput();
    return users.insert({ username, usernameKey: username, email, emailKey: email, passwordHash: 'x', role: 'basic' });
  }

  async function auditedFor(userId: string): Promise<string[]> {
    const jobs = await auditQueue.getJobs(['waiting', 'delayed', 'completed', 'failed', 'active']);
    return jobs
      .filter((j) => j.data.userId === userId)
      .sort((a, b) => a.timestamp - b.timestamp)
      .map((j) => `${j.data.operation}/${j.data.status}`);
  }

  it('issues an access token that verifies as the user, and a refresh token that rotates into a new pair', async () => {
    const user = await newUser();
    const pair = await sut.issuePair(user, newOrigin());
    const caller = await verifier.verify(pair.accessToken.token);
    expect(caller).toMatchObject({ userId: user.id, username: user.username, role: 'basic' });
    const next = await sut.rotate(pair.refreshToken, newOrigin());
    expect(next.refreshToken).not.toBe(pair.refreshToken);
    expect((await verifier.verify(next.accessToken.token)).familyId).toBe(caller.familyId);
    expect(await auditedFor(user.id)).toEqual(['auth.refresh/success']);
  });

  it('revokes the whole family when a rotated refresh token comes back', async () => {
    const user = await newUser();
    const first = await sut.issuePair(user, newOrigin());
    const second = await sut.rotate(first.refreshToken, newOrigin());
    await expect(sut.rotate(first.refreshToken, newOrigin())).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(sut.rotate(second.refreshToken, newOrigin())).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(verifier.verify(second.accessToken.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    expect(await auditedFor(user.id)).toEqual(['auth.refresh/success', 'auth.refresh_reuse/failure', 'auth.refresh/failure']);
  });

  it('rotates one refresh token once when two rotations race: the loser is a reuse and the family is revoked', async () => {
    const user = await newUser();
    const pair = await sut.issuePair(user, newOrigin());
    const outcomes = await Promise.allSettled([
      sut.rotate(pair.refreshToken, newOrigin()),
      sut.rotate(pair.refreshToken, newOrigin()),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({ reason: { code: 'TOKEN_REVOKED' } });
    const winner = outcomes.find((o) => o.status === 'fulfilled');
    const successor = (winner as PromiseFulfilledResult<Awaited<ReturnType<TokenIssuer['rotate']>>>).value;
    await expect(sut.rotate(successor.refreshToken, newOrigin())).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    const [row] = await test.stores.dataSource.query<{ live: string }[]>(
      `SELECT count(*) FILTER (WHERE revoked_at IS NULL) AS live FROM auth.refresh_tokens WHERE user_id = $1`,
      [user.id],
    );
    expect(row?.live).toBe('0');
  });

  it('refuses an unknown refresh token, an expired one, and any of a deactivated user', async () => {
    await expect(sut.rotate('not-a-token', newOrigin())).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    const user = await newUser();
    const expired = await sut.issuePair(user, newOrigin());
    await test.stores.dataSource.query(
      `UPDATE auth.refresh_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1`,
      [user.id],
    );
    await expect(sut.rotate(expired.refreshToken, newOrigin())).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    const fresh = await sut.issuePair(user, newOrigin());
    await users.update(user.id, { active: false });
    await expect(sut.rotate(fresh.refreshToken, newOrigin())).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
  });

  it('logs out: the access token and its whole sign-in stop working', async () => {
    const user = await newUser();
    const pair = await sut.issuePair(user, newOrigin());
    await sut.logout(await verifier.verify(pair.accessToken.token), newOrigin());
    await expect(verifier.verify(pair.accessToken.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(sut.rotate(pair.refreshToken, newOrigin())).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
  });

  it('renews an access token once when two renewals race', async () => {
    const user = await newUser();
    const caller = await verifier.verify((await sut.issuePair(user, newOrigin())).accessToken.token);
    const outcomes = await Promise.allSettled([
      sut.renewAccessToken(caller, newOrigin()),
      sut.renewAccessToken(caller, newOrigin()),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it("revokes every token of a user at once (a role change), and the user's new sign-ins work", async () => {
    const user = await newUser();
    const before = await sut.issuePair(user, newOrigin());
    await sut.revokeAllOfUser(user.id);
    const revokedBy = Date.now();
    await expect(verifier.verify(before.accessToken.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(sut.rotate(before.refreshToken, newOrigin())).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    // Tokens carry their issue time in milliseconds: one issued after the revocation's millisecond is good.
    await waitFor('the next millisecond', () => Date.now() > revokedBy, 1000, 1);
    const after = await sut.issuePair(user, newOrigin());
    await expect(verifier.verify(after.accessToken.token)).resolves.toMatchObject({ userId: user.id });
  });
});
