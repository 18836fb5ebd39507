import type { Redis } from 'ioredis';

/**
 * Revocations of access tokens before they expire, in Redis so every gateway replica sees them
 * at once: one token (logout), a token family (logout, stolen refresh token), or every token of
 * a user issued before a moment (deactivation, role change). Each entry lives only as long as
 * the tokens it could still concern.
 */
export class TokenRevocations {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  private tokenKey(tokenId: string): string {
    return `${this.keyPrefix}:revoked:token:${tokenId}`;
  }

  private familyKey(familyId: string): string {
    return `${this.keyPrefix}:revoked:family:${familyId}`;
  }

  private userKey(userId: string): string {
    return `${this.keyPrefix}:revoked:user:${userId}`;
  }

  /** Revokes one token; false when it was revoked already (so a token is spent once). */
  async revokeToken(tokenId: string, expiresAt: number): Promise<boolean> {
    const ttl = Math.max(1, expiresAt - Math.floor(Date.now() / 1000));
    return (await this.redis.set(this.tokenKey(tokenId), '1', 'EX', ttl, 'NX')) === 'OK';
  }

  /** `ttlSeconds`: the longest an access token of the family can still live. */
  async revokeFamily(familyId: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.familyKey(familyId), '1', 'EX', Math.max(1, ttlSeconds));
  }

  /** Revokes every access token of the user issued at or before `at` (Unix seconds). */
  async revokeUserTokensIssuedBefore(userId: string, at: number, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.userKey(userId), String(at), 'EX', Math.max(1, ttlSeconds));
  }

  /**
   * One round trip: whether the token, its family, or all of its user's older tokens are revoked.
   * `spentTokenCounts: false` ignores a revocation of the token alone (a renewal spent it; a
   * logout revokes the family too).
   */
  async isRevoked(
    tokenId: string,
    familyId: string,
    userId: string,
    issuedAt: number,
    options: { readonly spentTokenCounts?: boolean } = {},
  ): Promise<boolean> {
    const [token, family, userCutoff] = await this.redis.mget(
      this.tokenKey(tokenId),
      this.familyKey(familyId),
      this.userKey(userId),
    );
    const spent = token !== null && options.spentTokenCounts !== false;
    return spent || family !== null || (userCutoff !== null && issuedAt <= Number(userCutoff));
  }
}
