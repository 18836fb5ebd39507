import { setTimeout as delay } from 'node:timers/promises';
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
  /** Unix seconds after which the key verifies nothing (it was rotated out); absent while it signs. */
  readonly notAfter?: number;
}

/** Where the verifier gets the public keys from (the auth service, in the gateway). */
export type VerificationKeySource = () => Promise<readonly VerificationKey[]>;

/**
 * Loads for key ids not held are at least this far apart, so made-up key ids cannot hammer the key
 * source; a token naming one waits for the next load rather than being refused, so a key rotated
 * in just after a load is still learnt.
 */
const KEY_REFRESH_INTERVAL_MS = 1_000;
/**
 * A key set older than this is loaded again in the background at the next verification, so that a
 * rotation elsewhere (the end of the old key's verification) is learnt without waiting for a token
 * signed by the new key.
 */
const KEY_SET_MAX_AGE_MS = 60_000;

/**
 * The longest an access token may live (`exp - iat`) wherever it is verified: the upper bound of
 * ACCESS_TOKEN_TTL_SECONDS. A verifier that knows the configured lifetime is given that instead.
 */
export const MAX_ACCESS_TOKEN_LIFETIME_SECONDS = 86_400;

/** How far a token's `iat` may be ahead of this clock (the issuer's clock may run a little fast). */
const ISSUED_AT_SKEW_SECONDS = 60;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How long after its expiry a token still serves a `continuation` call. */
export const EXPIRED_TOKEN_GRACE_SECONDS = 24 * 3600;

export interface VerifyOptions {
  /**
   * The call continues an upload or a download begun while the token was valid: the token may
   * have expired since (up to EXPIRED_TOKEN_GRACE_SECONDS) or been spent by a renewal, as long
   * as its family (sign-in) and its user's tokens are not revoked. Signature and claims hold.
   */
  readonly continuation?: boolean;
}

interface LoadedKey {
  readonly key: KeyLike;
  /** Epoch ms after which the key is forgotten; Infinity while it signs. */
  readonly notAfterMs: number;
}

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
  private keys = new Map<string, LoadedKey>();
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

  async verify(token: string, options: VerifyOptions = {}): Promise<Caller> {
    if (!token || token.length > 4096) throw tokenError('TOKEN_INVALID');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, async (header) => this.keyFor(header.kid), {
        issuer: ACCESS_TOKEN_ISSUER,
        audience: ACCESS_TOKEN_AUDIENCE,
        algorithms: [ACCESS_TOKEN_ALGORITHM],
        requiredClaims: ['sub', 'jti', 'exp', 'iat'],
        ...(options.continuation ? { clockTolerance: EXPIRED_TOKEN_GRACE_SECONDS } : {}),
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
    const revoked = await this.revocations.isRevoked(caller.tokenId, caller.familyId, caller.userId, caller.issuedAtMs, {
      spentTokenCounts: !options.continuation,
    });
    if (revoked) {
      throw tokenError('TOKEN_REVOKED');
    }
    return caller;
  }

  private async keyFor(keyId: string | undefined): Promise<KeyLike> {
    if (!keyId) throw tokenError('TOKEN_INVALID');
    if (!this.refreshing && this.refreshedAt && Date.now() - this.refreshedAt >= KEY_SET_MAX_AGE_MS)
      // A failure here is the next refresh's to report; this token is checked with the keys held.
      this.refreshKeys().catch(() => undefined);
    let key = this.liveKey(keyId);
    // A refresh under way may bring the key, so wait for it rather than refuse (a cold start
    // meets many such requests at once); only a completed refresh can say a key id is unknown.
    if (!key) {
      const seen = this.refreshedAt;
      const wait = this.refreshing ? 0 : seen + KEY_REFRESH_INTERVAL_MS - Date.now();
      if (wait > 0) await delay(wait);
      // Of the tokens that waited, the first starts the load, the others share it or its result.
      // Whether a load completed meanwhile is read from its stamp, not from the clock: a timer may
      // fire a millisecond before Date.now() says the interval is over.
      if (this.refreshing || this.refreshedAt === seen) await this.refreshKeys();
      key = this.liveKey(keyId);
    }
    if (!key) throw tokenError('TOKEN_INVALID');
    return key;
  }

  /** The key, unless its verification has ended: then it is forgotten, and so are its tokens. */
  private liveKey(keyId: string): KeyLike | undefined {
    const loaded = this.keys.get(keyId);
    if (loaded && loaded.notAfterMs <= Date.now()) {
      this.keys.delete(keyId);
      return undefined;
    }
    return loaded?.key;
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
    const next = new Map<string, LoadedKey>();
    for (const key of keys)
      next.set(key.keyId, {
        key: await importSPKI(key.publicKeyPem, ACCESS_TOKEN_ALGORITHM),
        notAfterMs: key.notAfter ? key.notAfter * 1000 : Infinity,
      });
    this.keys = next;
    this.refreshedAt = Date.now();
  }
}
