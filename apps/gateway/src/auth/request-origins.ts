import type { Metadata } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@cloudstore/config';
import type { commonApi } from '@cloudstore/contracts';
import type { Request } from 'express';
import { GATEWAY_CONFIG } from '../gateway.tokens';

function firstValue(metadata: Metadata | undefined, key: string): string | undefined {
  const value = metadata?.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/** Where a request comes from (client address, user agent), for rate limits and the audit log. */
@Injectable()
export class RequestOrigins {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  /** req.ip honours TRUST_PROXY (X-Forwarded-For) through Express's `trust proxy`. */
  http(req: Request): commonApi.RequestOrigin {
    return { clientAddress: req.ip ?? req.socket.remoteAddress ?? '', userAgent: req.header('user-agent') ?? '' };
  }

  /** The peer address ("ipv4:1.2.3.4:5678" → "1.2.3.4"), or with TRUST_PROXY the first x-forwarded-for address. */
  grpc(call: { getPeer(): string } | undefined, metadata: Metadata | undefined): commonApi.RequestOrigin {
    const forwarded = this.config.TRUST_PROXY ? firstValue(metadata, 'x-forwarded-for')?.split(',')[0]?.trim() : undefined;
    const peer = call?.getPeer() ?? '';
    const match = /^(?:ipv4:|ipv6:)?\[?([^\]]+?)\]?:\d+$/.exec(peer);
    return { clientAddress: forwarded || (match?.[1] ?? peer), userAgent: firstValue(metadata, 'user-agent') ?? '' };
  }
}
