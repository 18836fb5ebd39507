import { AccessTokenVerifier, type Caller } from '@cloudstore/access-tokens';
import { newOrigin } from '@cloudstore/testing';
import {
  auditedFor,
  type AuthTestApplication,
  insertTestUser,
  startAuthTestApplication,
} from '../auth-test-application.test-helper';
import { type TokenPair, TokenIssuer } from '../tokens/token-issuer.service';
import type { UserEntity } from '../users/user.entity';
import { SessionsService } from './sessions.service';

const SESSION_MAX_AGE_SECONDS = 120;

/** A user's own sign-ins against the real database and Redis: list, end one, end all, absolute lifetime. */
describe(SessionsService.name, () => {
  let test: AuthTestApplication;
  let tokens: TokenIssuer;
  let verifier: AccessTokenVerifier;
  let sut: SessionsService;

  beforeAll(async () => {
    test = await startAuthTestApplication({ SESSION_MAX_AGE_SECONDS: String(SESSION_MAX_AGE_SECONDS) });
    tokens = test.app.get(TokenIssuer);
    verifier = test.app.get(AccessTokenVerifier);
    sut = test.app.get(SessionsService);
  });

  afterAll(async () => {
    await test.close();
  });

  function newUser(): Promise<UserEntity> {
    return insertTestUser(test);
  }

  async function signedIn(user: UserEntity, origin = newOrigin()): Promise<{ pair: TokenPair; caller: Caller }> {
    const pair = await tokens.issuePair(user, origin);
    return { pair, caller: await verifier.verify(pair.accessToken.token) };
  }

  it('lists live sign-ins newest first with device, address and times, marking the caller’s own', async () => {
    const user = await newUser();
    const firstOrigin = newOrigin();
    const first = await signedIn(user, firstOrigin);
    const second = await signedIn(user);
    const before = Date.now();
    await tokens.rotate(first.pair.refreshToken, newOrigin());
    const sessions = await sut.list(second.caller);
    expect(sessions.map((s) => [s.id, s.current])).toEqual([
      [second.caller.familyId, true],
      [first.caller.familyId, false],
    ]);
    const firstSession = sessions[1];
    expect(firstSession).toMatchObject({ device: firstOrigin.userAgent, clientAddress: firstOrigin.clientAddress });
    expect(firstSession?.lastUsedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect((firstSession?.expiresAt.getTime() ?? 0) - (firstSession?.createdAt.getTime() ?? 0)).toBeCloseTo(
      SESSION_MAX_AGE_SECONDS * 1000,
      -4,
    );
    expect(await sut.list(await signedIn(await newUser()).then((s) => s.caller))).toHaveLength(1);
  });

  it("ends one of the caller's sign-ins; another user's, an unknown and a malformed id are all NOT_FOUND", async () => {
    const user = await newUser();
    const mine = await signedIn(user);
    const other = await signedIn(user);
    const stranger = await signedIn(await newUser());
    for (const id of [stranger.caller.familyId, '00000000-0000-4000-8000-000000000000', 'not-a-uuid', '']) {
      await expect(sut.revoke(mine.caller, id, newOrigin())).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
    await expect(verifier.verify(stranger.pair.accessToken.token)).resolves.toMatchObject({ userId: stranger.caller.userId });
    await expect(tokens.rotate(stranger.pair.refreshToken, newOrigin())).resolves.toMatchObject({
      refreshToken: expect.any(String),
    });

    await sut.revoke(mine.caller, other.caller.familyId.toUpperCase(), newOrigin());
    await expect(verifier.verify(other.pair.accessToken.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(tokens.rotate(other.pair.refreshToken, newOrigin())).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(sut.revoke(mine.caller, other.caller.familyId, newOrigin())).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await sut.list(mine.caller)).map((s) => s.id)).toEqual([mine.caller.familyId]);
    await expect(verifier.verify(mine.pair.accessToken.token)).resolves.toMatchObject({ userId: user.id });
    expect(await auditedFor(test, user.id)).toEqual(['auth.session_revoke/success', 'auth.refresh/failure/TOKEN_REVOKED']);
  });

  it('signs out everywhere: every sign-in of the caller ends, the caller’s too', async () => {
    const user = await newUser();
    const sessions = [await signedIn(user), await signedIn(user), await signedIn(user)];
    await sut.logoutAll(sessions[0].caller, newOrigin());
    for (const session of sessions) {
      await expect(verifier.verify(session.pair.accessToken.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
      await expect(tokens.rotate(session.pair.refreshToken, newOrigin())).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    }
    expect(await sut.list(sessions[0].caller)).toEqual([]);
    expect(await auditedFor(test, user.id)).toContain('auth.logout_all/success');
  });

  it('gives a sign-in an absolute lifetime: no token outlives it, and past it refresh is TOKEN_EXPIRED', async () => {
    const user = await newUser();
    const { pair, caller } = await signedIn(user);
    const limit = Math.floor(Date.now() / 1000) + SESSION_MAX_AGE_SECONDS;
    expect(pair.accessToken.expiresAt).toBeLessThanOrEqual(limit);
    expect(pair.refreshExpiresAt).toBeLessThanOrEqual(limit);
    await test.stores.dataSource.query(`UPDATE auth.sign_ins SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      caller.familyId,
    ]);
    await expect(tokens.rotate(pair.refreshToken, newOrigin())).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    await expect(tokens.refresh({ refreshToken: '', currentToken: pair.accessToken.token }, newOrigin())).rejects.toMatchObject({
      code: 'TOKEN_EXPIRED',
    });
    expect(await sut.list(caller)).toEqual([]);
  });
});
