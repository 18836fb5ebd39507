import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@cloudstore/config';
import type { Redis } from 'ioredis';
import { CHUNK_OVERHEAD } from '../encryption/file-cipher';
import { GATEWAY_CONFIG, REDIS } from '../gateway.tokens';

/** Bytes of an upload past its last whole chunk, sealed (FileCipher.sealUploadTail), and the offset they start at. */
export interface UploadTail {
  readonly start: number;
  readonly sealed: Buffer;
}

/** The plaintext bytes a tail holds. */
export function tailBytes(tail: UploadTail | undefined): number {
  return tail ? tail.sealed.length - CHUNK_OVERHEAD : 0;
}

/**
 * The tails of resumable uploads between two tus requests, in Redis: any gateway can go on with
 * the upload, and a tail goes with its upload's expiry. A chunk is stored whole, so a request that
 * ends inside one leaves these bytes (less than a chunk) here until the next request completes it.
 */
@Injectable()
export class UploadTails {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async get(uploadId: string): Promise<UploadTail | undefined> {
    const [start, sealed] = await this.redis.hmgetBuffer(this.key(uploadId), 'start', 'sealed');
    if (!start || !sealed) return undefined;
    return { start: Number(start.toString()), sealed };
  }

  /** Keeps the tail until the upload expires (`expiresAt`, Unix seconds). */
  async set(uploadId: string, tail: UploadTail, expiresAt: number): Promise<void> {
    const key = this.key(uploadId);
    const ttlSeconds = Math.max(1, expiresAt - Math.floor(Date.now() / 1000));
    const results = await this.redis
      .multi()
      .hset(key, 'start', String(tail.start), 'sealed', tail.sealed)
      .expire(key, ttlSeconds)
      .exec();
    // A tail kept without its expiry would outlive its upload.
    const failure = results ? results.find(([error]) => error)?.[0] : new Error('the transaction was discarded');
    if (failure) {
      await this.delete(uploadId).catch(() => undefined);
      throw failure;
    }
  }

  async delete(uploadId: string): Promise<void> {
    await this.redis.del(this.key(uploadId));
  }

  private key(uploadId: string): string {
    return `${this.config.REDIS_KEY_PREFIX}:upload-tail:${uploadId}`;
  }
}
