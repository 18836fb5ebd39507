import { parseCidr, type Cidr } from '@cloudstore/config';
import { TrustedProxies } from './trusted-proxies';

function cidrs(...raw: string[]): Cidr[] {
  return raw.map((r) => parseCidr(r) as Cidr);
}

describe(TrustedProxies.name, () => {
  it('ignores X-Forwarded-For when no proxy is trusted', () => {
    const sut = new TrustedProxies([]);
    expect(sut.clientAddress('127.0.0.1', '1.2.3.4, 5.6.7.8')).toBe('127.0.0.1');
    expect(sut.isTrusted('127.0.0.1')).toBe(false);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const sut = new TrustedProxies(cidrs('10.0.0.0/8'));
    expect(sut.clientAddress('203.0.113.9', '1.2.3.4')).toBe('203.0.113.9');
  });

  it('takes the rightmost hop that is not a trusted proxy, never what the client wrote left of it', () => {
    const sut = new TrustedProxies(cidrs('127.0.0.1/32'));
    expect(sut.clientAddress('127.0.0.1', '1.2.3.4, 5.6.7.8')).toBe('5.6.7.8');
    const chain = new TrustedProxies(cidrs('10.0.0.0/8', '127.0.0.1'));
    expect(chain.clientAddress('127.0.0.1', '1.2.3.4, 5.6.7.8, 10.1.1.1, 10.2.2.2')).toBe('5.6.7.8');
  });

  it('answers the leftmost hop when every hop is a trusted proxy', () => {
    const sut = new TrustedProxies(cidrs('10.0.0.0/8', '127.0.0.1'));
    expect(sut.clientAddress('127.0.0.1', '10.0.0.5, 10.0.0.6')).toBe('10.0.0.5');
  });

  it('stops at the proxy that reported a hop which is not an address', () => {
    const sut = new TrustedProxies(cidrs('10.0.0.0/8', '127.0.0.1'));
    expect(sut.clientAddress('127.0.0.1', '5.6.7.8, <script>, 10.0.0.5')).toBe('10.0.0.5');
  });

  it('matches IPv4-mapped peers and IPv6 networks', () => {
    const sut = new TrustedProxies(cidrs('127.0.0.0/8', 'fd00::/8'));
    expect(sut.clientAddress('::ffff:127.0.0.1', '2001:db8::1')).toBe('2001:db8::1');
    expect(sut.clientAddress('fd00::7', '::ffff:198.51.100.4')).toBe('198.51.100.4');
    expect(sut.isTrusted('fe80::1')).toBe(false);
  });
});
