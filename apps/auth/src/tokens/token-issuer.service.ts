import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  ACCESS_TOKEN_ALGORITHM,
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  type AccessTokenCustomClaims,
  AccessTokenVerifier,
  type Caller,
  TokenRevocations,
} from '@cloudstore/access-tokens';
import type { AuthConfig } from '@cloudstore/config';
import {
  DomainError,
  InvalidArgumentError,
  TokenExpiredError,
  TokenInvalidError,
  TokenRevokedError,
} from '@cloudstore/contracts';
import { SignJWT } from 'jose';
import { AUTH_CONFIG } from '../auth.tokens';
import { AuditTrail, type Origin } from '../audit/audit-trail.service';
import type { UserEntity } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { SignInsRepository } from '../sessions/sign-ins.repository';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { SigningKeysService } from './signing-keys.service';
import type { DataSource } from 'typeorm';

export interface AccessToken {
  readonly token: string;
  readonly expiresAt: number;
}

export interface TokenPair {
  readonly accessToken: AccessToken;
  readonly refreshToken: string;
  readonly refreshExpiresAt: number;
}

interface NewRefreshToken {
  readonly token: string;
  readonly hash: string;
  readonly expiresAt: number;
}

type RotationOutcome =
  | { ok: true; user: UserEntity; familyId: string; next: NewRefreshToken; signInExpiresAt: number }
  | { ok: false; error: DomainError; userId?: string; familyId?: string; reused?: boolean };

function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Issues and revokes tokens. Access tokens: EdDSA JWTs carrying the user id, role, a token id
 * and the refresh family. Refresh tokens: 256 random bits, stored only as SHA-256, rotated on
 * every use; presenting an already rotated one revokes its whole family (it was stolen).
 */
@Injectable()
export class TokenIssuer {
  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly signingKeys: SigningKeysService,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly users: UsersRepository,
    private readonly revocations: TokenRevocations,
    private readonly audit: AuditTrail,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly verifier: AccessTokenVerifier,
    private readonly signIns: SignInsRepository,
  ) {}

  /**
   * RefreshToken: a refresh token rotates (a new pair); without one, a still-valid access token
   * (`currentToken`) is renewed alone (no refresh token in the answer).
   */
  async refresh(request: { refreshToken: string; currentToken: string }, origin: Origin): Promise<TokenPair> {
    if (request.refreshToken) return this.rotate(request.refreshToken, origin);
    if (!request.currentToken) throw new InvalidArgumentError('Send refresh_token (or current_token, a valid access token)');
    const caller = await this.verifier.verify(request.currentToken);
    return { accessToken: await this.renewAccessToken(caller, origin), refreshToken: '', refreshExpiresAt: 0 };
  }

  /** An access token of the sign-in `familyId`, which never outlives the sign-in (`notAfter`, Unix seconds). */
  async issueAccessToken(
    user: Pick<UserEntity, 'id' | 'username' | 'role'>,
    familyId: string,
    notAfter: number,
  ): Promise<AccessToken> {
    const { keyId, privateKey } = await this.signingKeys.signingKey();
    const issuedAtMs = Date.now();
    const issuedAt = Math.floor(issuedAtMs / 1000);
    const expiresAt = Math.min(issuedAt + this.config.ACCESS_TOKEN_TTL_SECONDS, notAfter);
    const claims: AccessTokenCustomClaims = { role: user.role, username: user.username, fid: familyId, iatms: issuedAtMs };
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, kid: keyId, typ: 'JWT' })
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject(user.id)
      .setJti(randomUUID())
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(privateKey);
    return { token, expiresAt };
  }

  /** The first pair of a login: a new sign-in and its family, which ends SESSION_MAX_AGE_SECONDS from now at the latest. */
  async issuePair(user: Pick<UserEntity, 'id' | 'username' | 'role'>, origin: Origin): Promise<TokenPair> {
    const familyId = randomUUID();
    const signInExpiresAt = nowSeconds() + this.config.SESSION_MAX_AGE_SECONDS;
    await this.signIns.insert({
      id: familyId,
      userId: user.id,
      device: (origin.userAgent ?? '').slice(0, 512),
      clientAddress: origin.clientAddress ?? '',
      expiresAt: new Date(signInExpiresAt * 1000),
    });
    const refresh = this.newRefreshToken(signInExpiresAt);
    await this.refreshTokens.insert(undefined, {
      familyId,
      userId: user.id,
      tokenHash: refresh.hash,
      expiresAt: new Date(refresh.expiresAt * 1000),
    });
    return {
      accessToken: await this.issueAccessToken(user, familyId, signInExpiresAt),
      refreshToken: refresh.token,
      refreshExpiresAt: refresh.expiresAt,
    };
  }

  /** Exchanges a refresh token for a new pair of the same family. */
  async rotate(refreshToken: string, origin: Origin): Promise<TokenPair> {
    const outcome = await this.dataSource.transaction<RotationOutcome>(async (manager) => {
      const row = await this.refreshTokens.findForUpdate(manager, hashRefreshToken(refreshToken));
      if (!row) return { ok: false, error: new TokenInvalidError('The refresh token is not valid') };
      const failure = (error: DomainError, reused = false): RotationOutcome => ({
        ok: false,
        error,
        userId: row.userId,
        familyId: row.familyId,
        reused,
      });
      if (row.revokedAt) return failure(new TokenRevokedError('The refresh token has been revoked'));
      if (row.usedAt) {
        await this.refreshTokens.revokeFamily(manager, row.familyId);
        return failure(new TokenRevokedError('The refresh token was already used: every token of this sign-in is revoked'), true);
      }
      if (row.expiresAt.getTime() <= Date.now()) return failure(new TokenExpiredError('The refresh token has expired'));
      const signIn = await this.signIns.findById(manager, row.familyId);
      if (!signIn || signIn.revokedAt) return failure(new TokenRevokedError('This sign-in has ended'));
      if (signIn.expiresAt.getTime() <= Date.now()) {
        return failure(new TokenExpiredError('This sign-in is older than SESSION_MAX_AGE_SECONDS: sign in again'));
      }
      const signInExpiresAt = Math.floor(signIn.expiresAt.getTime() / 1000);
      const user = await this.users.findById(row.userId);
      if (!user?.active) {
        await this.refreshTokens.revokeFamily(manager, row.familyId);
        return failure(new TokenRevokedError('The account is deactivated'));
      }
      await this.refreshTokens.markUsed(manager, row.id);
      await this.signIns.touch(manager, signIn.id);
      const next = this.newRefreshToken(signInExpiresAt);
      await this.refreshTokens.insert(manager, {
        familyId: row.familyId,
        userId: row.userId,
        tokenHash: next.hash,
        expiresAt: new Date(next.expiresAt * 1000),
      });
      return { ok: true, user, familyId: row.familyId, next, signInExpiresAt };
    });
    if (!outcome.ok) {
      if (outcome.reused && outcome.familyId)
        await this.revocations.revokeFamily(outcome.familyId, this.config.ACCESS_TOKEN_TTL_SECONDS);
      await this.audit.record({
        operation: outcome.reused ? 'auth.refresh_reuse' : 'auth.refresh',
        status: 'failure',
        errorCode: outcome.error.code,
        ...(outcome.userId ? { userId: outcome.userId } : {}),
        origin,
      });
      throw outcome.error;
    }
    const { user, familyId, next, signInExpiresAt } = outcome;
    await this.audit.record({ operation: 'auth.refresh', status: 'success', userId: user.id, username: user.username, origin });
    return {
      accessToken: await this.issueAccessToken(user, familyId, signInExpiresAt),
      refreshToken: next.token,
      refreshExpiresAt: next.expiresAt,
    };
  }

  /** The seed's refresh: a valid access token for a new one; the old one is revoked. */
  async renewAccessToken(caller: Caller, origin: Origin): Promise<AccessToken> {
    const user = await this.users.findById(caller.userId);
    if (!user?.active) throw new TokenRevokedError('The account is deactivated');
    const signIn = await this.signIns.findById(this.dataSource.manager, caller.familyId);
    if (!signIn || signIn.revokedAt) throw new TokenRevokedError('This sign-in has ended');
    if (signIn.expiresAt.getTime() <= Date.now()) {
      throw new TokenExpiredError('This sign-in is older than SESSION_MAX_AGE_SECONDS: sign in again');
    }
    // The old token is spent first: of two renewals racing with it, one wins.
    if (!(await this.revocations.revokeToken(caller.tokenId, caller.expiresAt)))
      throw new TokenRevokedError('The access token has been revoked');
    const token = await this.issueAccessToken(user, caller.familyId, Math.floor(signIn.expiresAt.getTime() / 1000));
    await this.audit.success('auth.refresh', user, origin, { flow: 'access_token' });
    return token;
  }

  /** Revokes the access token and every token of its sign-in. */
  async logout(caller: Caller, origin: Origin): Promise<void> {
    await this.revocations.revokeToken(caller.tokenId, caller.expiresAt);
    await this.signIns.revoke(caller.userId, caller.familyId);
    await this.revokeFamily(caller.familyId);
    await this.audit.record({
      operation: 'auth.logout',
      status: 'success',
      userId: caller.userId,
      username: caller.username,
      origin,
    });
  }

  /**
   * Ends one sign-in of the user: its refresh tokens and its access tokens stop working now. False
   * when the user has no such live sign-in (another user's is the same as none).
   */
  async revokeSignIn(userId: string, familyId: string): Promise<boolean> {
    if (!(await this.signIns.revoke(userId, familyId))) return false;
    await this.revokeFamily(familyId);
    return true;
  }

  /** Ends every sign-in of the user but `keepFamilyId` (the caller's, after a password change); how many ended. */
  async revokeOtherSignIns(userId: string, keepFamilyId: string): Promise<number> {
    const ended = await this.signIns.revokeAllOfUser(userId, keepFamilyId);
    await this.refreshTokens.revokeAllOfUser(userId, keepFamilyId);
    await Promise.all(ended.map((id) => this.revocations.revokeFamily(id, this.config.ACCESS_TOKEN_TTL_SECONDS)));
    return ended.length;
  }

  /** Every token of the user stops working now (deactivation, role change, password reset, sign-out everywhere). */
  async revokeAllOfUser(userId: string): Promise<number> {
    const ended = await this.signIns.revokeAllOfUser(userId);
    await this.refreshTokens.revokeAllOfUser(userId);
    await this.revocations.revokeUserTokensIssuedBefore(userId, Date.now(), this.config.ACCESS_TOKEN_TTL_SECONDS);
    return ended.length;
  }

  private async revokeFamily(familyId: string): Promise<void> {
    await this.refreshTokens.revokeFamily(undefined, familyId);
    await this.revocations.revokeFamily(familyId, this.config.ACCESS_TOKEN_TTL_SECONDS);
  }

  private newRefreshToken(notAfter: number): NewRefreshToken {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = Math.min(nowSeconds() + this.config.REFRESH_TOKEN_TTL_SECONDS, notAfter);
    return { token, hash: hashRefreshToken(token), expiresAt };
  }
}
