import {
  DomainError,
  ServiceUnavailableError,
  TokenExpiredError,
  TokenInvalidError,
  TokenRevokedError,
} from '@cloudstore/contracts';
import { errors, importSPKI, type JWTPayload, jwtVerify, type KeyLike } from 'jose';
import { ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, type Caller } from './claims';
import type { TokenRevocations } from './token-revocations';

export interface VerificationKey {
  readonly keyId: string;
  readonly publicKeyPem: string;
}

/** Where the verifier gets the public keys from (the auth service, in the gateway). */
export type VerificationKeySource = () => Promise<readonly VerificationKey[]>;

/**
 * After a completed refresh, a token naming a key id it did not bring is refused without asking
 * again for this long, so made-up key ids cannot hammer the key source.
 */
const KEY_REFRESH_INTERVAL_MS = 10_000;

/**
 * The longest an access token may live (`exp - iat`) wherever it is verified: the upper bound of
 * ACCESS_TOKEN_TTL_SECONDS. A verifier that knows the configured lifetime is given that instead.
 */
export const MAX_ACCESS_TOKEN_LIFETIME_SECONDS = 86_400;

/** How far a token's `iat` may be ahead of this clock (the issuer's clock may run a little fast). */
const ISSUED_AT_SKEW_SECONDS = 60;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const TOKEN_ERRORS = {
  TOKEN_INVALID: () => new TokenInvalidError('The access token is not valid'),
  TOKEN_EXPIRED: () => new TokenExpiredError('The access token has expired'),
  TOKEN_REVOKED: () => new TokenRevokedError('The access token has been revoked'),
};

function tokenError(code: keyof typeof TOKEN_ERRORS): DomainError {
  return TOKEN_ERRORS[code]();
}

function stringClaim(payload: JWTPayload, name: string): string {
  const value = payload[name];
  if (typeof value !== 'string' || value === '') throw tokenError('TOKEN_INVALID');
  return value;
}

/** User ids are UUIDs: a subject that is not one never reaches a uuid column or a key name. */
function uuidClaim(payload: JWTPayload, name: string): string {
  const value = stringClaim(payload, name);
  if (!UUID.test(value)) throw tokenError('TOKEN_INVALID');
  return value;
}

/**
 * A token that claims to live longer than tokens are issued for, or to be issued in the future,
 * is refused even when validly signed: a signing mistake or a leaked key cannot mint one that
 * lasts until 9999.
 */
function assertLifetime(payload: JWTPayload, maxLifetimeSeconds: number): void {
  const { iat, exp } = payload;
  if (typeof iat !== 'number' || typeof exp !== 'number') throw tokenError('TOKEN_INVALID');
  if (exp - iat > maxLifetimeSeconds || iat > Date.now() / 1000 + ISSUED_AT_SKEW_SECONDS) throw tokenError('TOKEN_INVALID');
}

/**
 * Verifies access tokens locally (signature, issuer, audience, expiry) with the auth service's
 * public keys, then checks revocation in Redis: no call to auth per request.
 */
export class AccessTokenVerifier {
  private keys = new Map<string, KeyLike>();
  /** When the last refresh completed (0: never); stamped only on success. */
  private refreshedAt = 0;
  /** The refresh under way, shared by every request that needs it (single flight). */
  private refreshing: Promise<void> | undefined;

  /** `maxLifetimeSeconds`: ACCESS_TOKEN_TTL_SECONDS where it is known, the hard cap otherwise. */
  constructor(
    private readonly keySource: VerificationKeySource,
    private readonly revocations: TokenRevocations,
    private readonly maxLifetimeSeconds = MAX_ACCESS_TOKEN_LIFETIME_SECONDS,
  ) {}

  async verify(token: string): Promise<Caller> {
    if (!token || token.length > 4096) throw tokenError('TOKEN_INVALID');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, async (header) => this.keyFor(header.kid), {
        issuer: ACCESS_TOKEN_ISSUER,
        audience: ACCESS_TOKEN_AUDIENCE,
        algorithms: [ACCESS_TOKEN_ALGORITHM],
        requiredClaims: ['sub', 'jti', 'exp', 'iat'],
      }));
    } catch (error) {
      if (error instanceof DomainError) throw error;
      if (error instanceof errors.JWTExpired) throw tokenError('TOKEN_EXPIRED');
      if (error instanceof errors.JOSEError || error instanceof TypeError) throw tokenError('TOKEN_INVALID');
      throw error;
    }
    assertLifetime(payload, this.maxLifetimeSeconds);
    const caller: Caller = {
      userId: uuidClaim(payload, 'sub'),
      tokenId: uuidClaim(payload, 'jti'),
      familyId: uuidClaim(payload, 'fid'),
      role: stringClaim(payload, 'role'),
      username: stringClaim(payload, 'username'),
      issuedAt: payload.iat ?? 0,
      expiresAt: payload.exp ?? 0,
      issuedAtMs: typeof payload['iatms'] === 'number' ? payload['iatms'] : (payload.iat ?? 0) * 1000,
    };
    if (await this.revocations.isRevoked(caller.tokenId, caller.familyId, caller.userId, caller.issuedAtMs)) {
      throw tokenError('TOKEN_REVOKED');
    }
    return caller;
  }

  private async keyFor(keyId: string | undefined): Promise<KeyLike> {
    if (!keyId) throw tokenError('TOKEN_INVALID');
    let key = this.keys.get(keyId);
    // A refresh under way may bring the key, so wait for it rather than refuse (a cold start
    // meets many such requests at once); only a completed refresh can say a key id is unknown.
    if (!key && (this.refreshing || Date.now() - this.refreshedAt >= KEY_REFRESH_INTERVAL_MS)) {
      await this.refreshKeys();
      key = this.keys.get(keyId);
    }
    if (!key) throw tokenError('TOKEN_INVALID');
    return key;
  }

  /**
   * Loads the current public keys; called on first use and when a token names an unknown key.
   * Concurrent callers share one load. A failed load bars nothing: it rejects with
   * SERVICE_UNAVAILABLE (the token may be fine, the keys could not be fetched) and the next
   * request tries again.
   */
  refreshKeys(): Promise<void> {
    this.refreshing ??= this.loadKeys().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async loadKeys(): Promise<void> {
    let keys: readonly VerificationKey[];
    try {
      keys = await this.keySource();
    } catch {
      throw new ServiceUnavailableError('The token keys cannot be loaded right now, try again later');
    }
    const next = new Map<string, KeyLike>();
    for (const key of keys) next.set(key.keyId, await importSPKI(key.publicKeyPem, ACCESS_TOKEN_ALGORITHM));
    this.keys = next;
    this.refreshedAt = Date.now();
  }
}
