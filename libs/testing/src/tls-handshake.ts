import { once } from 'node:events';
import { connect } from 'node:tls';

/** What a TLS handshake with a server negotiated. */
export interface TlsHandshake {
  /** `TLSv1.3`, … */
  readonly protocol: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  readonly fingerprint: string;
}

/**
 * A new TLS connection to `127.0.0.1:port`, trusting `ca` (the server's certificate must name
 * `localhost` or 127.0.0.1), closed once the handshake is done. `maxVersion` plays an old
 * client; a refused handshake rejects.
 */
export async function tlsHandshake(
  port: number,
  ca: Buffer,
  options: { alpn?: 'h2' | 'http/1.1'; maxVersion?: 'TLSv1.2' } = {},
): Promise<TlsHandshake> {
  const socket = connect({
    host: '127.0.0.1',
    port,
    ca,
    servername: 'localhost',
    ALPNProtocols: [options.alpn ?? 'http/1.1'],
    ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
  });
  try {
    await once(socket, 'secureConnect');
    return { protocol: String(socket.getProtocol()), fingerprint: socket.getPeerCertificate().fingerprint256 };
  } finally {
    socket.destroy();
  }
}
