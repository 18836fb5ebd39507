/** Who issues access tokens and who they are for; verifiers insist on both. */
export const ACCESS_TOKEN_ISSUER = 'cloudstore-auth';
export const ACCESS_TOKEN_AUDIENCE = 'cloudstore';
export const ACCESS_TOKEN_ALGORITHM = 'EdDSA';

/** The caller an access token proves, as services see it after verification. */
export interface Caller {
  readonly userId: string;
  readonly username: string;
  readonly role: string;
  /** The token's id (`jti`), to revoke exactly this token. */
  readonly tokenId: string;
  /** The refresh-token family the token descends from (`fid`), to revoke them together. */
  readonly familyId: string;
  /** Unix seconds. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** Unix milliseconds: revocations of "every token older than now" compare against it. */
  readonly issuedAtMs: number;
}

/** JWT claims beyond the registered ones. */
export interface AccessTokenCustomClaims {
  readonly role: string;
  readonly username: string;
  readonly fid: string;
  /** Issue time in milliseconds (iat has whole seconds only). */
  readonly iatms: number;
}

const BEARER = /^Bearer\s+(\S+)$/i;

/** The token of an `Authorization: Bearer <token>` value (HTTP header or gRPC metadata), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  return header ? BEARER.exec(header.trim())?.[1] : undefined;
}
