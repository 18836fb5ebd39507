import type { Metadata } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@cloudstore/config';
import type { commonApi } from '@cloudstore/contracts';
import type { Request } from 'express';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { TrustedProxies } from '../http/trusted-proxies';

function firstValue(metadata: Metadata | undefined, key: string): string | undefined {
  const value = metadata?.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/** Every value of a repeatable header, in order, as one comma separated list. */
function allValues(values: readonly unknown[]): string | undefined {
  const strings = values.filter((v): v is string => typeof v === 'string');
  return strings.length > 0 ? strings.join(',') : undefined;
}

/** Where a request comes from (client address, user agent), for rate limits and the audit log. */
@Injectable()
export class RequestOrigins {
  private readonly proxies: TrustedProxies;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.proxies = new TrustedProxies(config.TRUSTED_PROXIES);
  }

  /** The connection's peer, or behind TRUSTED_PROXIES the rightmost untrusted X-Forwarded-For hop. */
  http(req: Request): commonApi.RequestOrigin {
    const forwarded = req.headers['x-forwarded-for'];
    return {
      clientAddress: this.proxies.clientAddress(
        req.socket.remoteAddress ?? '',
        Array.isArray(forwarded) ? forwarded.join(',') : forwarded,
      ),
      userAgent: req.header('user-agent') ?? '',
    };
  }

  /** The peer ("ipv4:1.2.3.4:5678" → "1.2.3.4"), or behind TRUSTED_PROXIES the rightmost untrusted x-forwarded-for hop. */
  grpc(call: { getPeer(): string } | undefined, metadata: Metadata | undefined): commonApi.RequestOrigin {
    const peer = call?.getPeer() ?? '';
    const match = /^(?:ipv4:|ipv6:)?\[?([^\]]+?)\]?:\d+$/.exec(peer);
    return {
      clientAddress: this.proxies.clientAddress(match?.[1] ?? peer, allValues(metadata?.get('x-forwarded-for') ?? [])),
      userAgent: firstValue(metadata, 'user-agent') ?? '',
    };
  }
}
