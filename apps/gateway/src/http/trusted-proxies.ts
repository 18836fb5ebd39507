import { BlockList, isIP } from 'node:net';
import type { Cidr } from '@cloudstore/config';

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) → `1.2.3.4`; other addresses as they are. */
function normalise(address: string): string {
  const trimmed = address.trim();
  return IPV4_MAPPED.exec(trimmed)?.[1] ?? trimmed;
}

/**
 * The proxies of TRUSTED_PROXIES, and the client address they imply. X-Forwarded-For is a list
 * each proxy appends its peer to, so only its right end is written by proxies we trust: walking
 * from the connection's peer leftwards, the client is the first hop that is not a trusted proxy.
 * Anything left of it is what the client claimed, and is ignored. With no trusted proxies the
 * header is ignored altogether.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  private readonly empty: boolean;

  constructor(cidrs: readonly Cidr[]) {
    for (const cidr of cidrs) this.list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    this.empty = cidrs.length === 0;
  }

  isTrusted(address: string): boolean {
    if (this.empty) return false;
    const ip = normalise(address);
    const version = isIP(ip);
    return version !== 0 && this.list.check(ip, version === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * The client address of a connection from `peer` carrying `forwardedFor` (the header's
   * values, comma separated). A hop that is not an IP address ends the walk at the proxy that
   * reported it: a broken header never becomes someone's address.
   */
  clientAddress(peer: string, forwardedFor: string | undefined): string {
    let client = normalise(peer);
    if (!this.isTrusted(client) || !forwardedFor) return client;
    const hops = forwardedFor.split(',').map(normalise).reverse();
    for (const hop of hops) {
      if (isIP(hop) === 0) return client;
      client = hop;
      if (!this.isTrusted(hop)) return client;
    }
    return client;
  }
}
