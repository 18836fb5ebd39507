import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  type commonApi,
  type filesApi,
  FileNotFoundError,
  InvalidArgumentError,
  InvalidCredentialsError,
  RateLimitedError,
} from '@cloudstore/contracts';
import argon2 from 'argon2';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { GatewayConfig } from '@cloudstore/config';
import { GATEWAY_CONFIG, REDIS } from '../gateway.tokens';
import { InternalClients } from '../internal-clients/internal-clients';

/** The longest a link may live: a year. */
export const MAX_LINK_LIFETIME_SECONDS = 365 * 86_400;
/** A link's password: at most this many characters (hashing is the expensive part, not the length). */
export const MAX_LINK_PASSWORD_LENGTH = 1024;
/** Wrong passwords for one link from one address before it is refused for the rest of the window. */
export const LINK_PASSWORD_ATTEMPTS = 10;
export const LINK_PASSWORD_WINDOW_SECONDS = 900;

/** OWASP's Argon2id baseline (19 MiB, 2 passes, 1 lane), as auth's default for account passwords. */
const LINK_PASSWORD_HASHING = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
/** A link's secret: 32 random bytes, base64url. */
const LINK_SECRET = /^[A-Za-z0-9_-]{43}$/;

/** A link as its owner sees it; `url` only when it is made (only its hash is kept). */
export interface LinkView {
  link_id: string;
  file_id: string;
  url?: string;
  expires_at: number;
  created_at: number;
  has_password: boolean;
}

export function linkView(link: filesApi.DownloadLink, url?: string): LinkView {
  return {
    link_id: link.linkId,
    file_id: link.fileId,
    ...(url ? { url } : {}),
    expires_at: link.expiresAt,
    created_at: link.createdAt,
    has_password: link.hasPassword,
  };
}

/** The file a link opens, with what downloading it takes. */
export interface OpenedLink {
  readonly tokenSha256: Buffer;
  readonly file: filesApi.FileRecord;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * Download links. The secret in a link's URL is drawn here and only its SHA-256 leaves the
 * gateway, with an Argon2id hash of the password when there is one; a link's password is checked
 * here too, wrong ones counted per link and client address in Redis (LINK_PASSWORD_ATTEMPTS per
 * LINK_PASSWORD_WINDOW_SECONDS, then RATE_LIMITED).
 */
@Injectable()
export class DownloadLinksService {
  private readonly passwordFailures: RateLimiterRedis;

  constructor(
    private readonly clients: InternalClients,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(REDIS) redis: Redis,
  ) {
    this.passwordFailures = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${config.REDIS_KEY_PREFIX}:limit:link-password`,
      points: LINK_PASSWORD_ATTEMPTS,
      duration: LINK_PASSWORD_WINDOW_SECONDS,
    });
  }

  /** For the caller's own live file; `baseUrl` is where the client reached this gateway. */
  async create(
    fileId: string,
    options: { expiresInSeconds: number; password?: string },
    origin: commonApi.RequestOrigin,
    baseUrl: string,
  ): Promise<LinkView> {
    if (
      !Number.isInteger(options.expiresInSeconds) ||
      options.expiresInSeconds < 1 ||
      options.expiresInSeconds > MAX_LINK_LIFETIME_SECONDS
    )
      throw new InvalidArgumentError(`expires_in_seconds must be a whole number from 1 to ${MAX_LINK_LIFETIME_SECONDS}`);
    const password = options.password ?? '';
    if (password.length > MAX_LINK_PASSWORD_LENGTH)
      throw new InvalidArgumentError(`A link's password is at most ${MAX_LINK_PASSWORD_LENGTH} characters`);
    const secret = randomBytes(32).toString('base64url');
    const link = await this.clients.files.call('createDownloadLink', {
      fileId,
      tokenSha256: sha256(secret),
      passwordHash: password ? await argon2.hash(password.normalize('NFC'), LINK_PASSWORD_HASHING) : '',
      expiresAt: Math.floor(Date.now() / 1000) + options.expiresInSeconds,
      origin,
    });
    return linkView(link, `${baseUrl}/v1/links/${secret}`);
  }

  async list(fileId: string): Promise<LinkView[]> {
    return (await this.clients.files.call('listDownloadLinks', { fileId })).links.map((link) => linkView(link));
  }

  async revoke(fileId: string, linkId: string, origin: commonApi.RequestOrigin): Promise<void> {
    await this.clients.files.call('revokeDownloadLink', { fileId, linkId, origin });
  }

  /**
   * The link's file, once its password (if it has one) is given right: none given is
   * INVALID_CREDENTIALS (the client should ask for it), a wrong one too, and counted.
   */
  async open(secret: string, password: string | undefined, clientAddress: string): Promise<OpenedLink> {
    if (!LINK_SECRET.test(secret)) throw new FileNotFoundError('The link does not exist or has expired');
    const tokenSha256 = sha256(secret);
    const link = await this.clients.files.call('resolveDownloadLink', { tokenSha256 });
    if (link.passwordHash) await this.checkPassword(link, password, clientAddress);
    return { tokenSha256, file: link.file as filesApi.FileRecord };
  }

  private async checkPassword(
    link: filesApi.ResolveDownloadLinkResponse,
    password: string | undefined,
    clientAddress: string,
  ): Promise<void> {
    const key = `${link.linkId}:${clientAddress}`;
    const spent = await this.passwordFailures.get(key);
    if (spent && spent.consumedPoints >= LINK_PASSWORD_ATTEMPTS)
      throw new RateLimitedError('Too many wrong passwords for this link; try again later', secondsLeft(spent));
    if (password === undefined || password === '') throw new InvalidCredentialsError('This link needs its password');
    const right =
      password.length <= MAX_LINK_PASSWORD_LENGTH && (await argon2.verify(link.passwordHash, password.normalize('NFC')));
    if (right) return;
    const after = await this.passwordFailures.consume(key).catch((limited: unknown) => {
      if (limited instanceof RateLimiterRes) return limited;
      throw limited;
    });
    if (after.consumedPoints > LINK_PASSWORD_ATTEMPTS)
      throw new RateLimitedError('Too many wrong passwords for this link; try again later', secondsLeft(after));
    throw new InvalidCredentialsError('The link’s password is wrong');
  }
}

function secondsLeft(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}
