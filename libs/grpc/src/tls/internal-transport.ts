import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext, type PeerCertificate } from 'node:tls';
import { type ChannelCredentials, type ChannelOptions, credentials, ServerCredentials } from '@grpc/grpc-js';
import { ConfigError } from '@cloudstore/config';

/** Every cloudstore service is named in its certificate by a SAN URI under this prefix. */
export const IDENTITY_PREFIX = 'spiffe://cloudstore/';

/** The identity (SAN URI) of the service called `name`: `gateway`, `auth`, `metadata`, `node-<i>`. */
export function serviceIdentity(name: string): string {
  return `${IDENTITY_PREFIX}${name}`;
}

/** TLS 1.3 only, on both ends of every internal connection. */
export const INTERNAL_TLS_MIN_VERSION = 'TLSv1.3';

/** The cluster's CA and this service's certificate and key, all PEM. */
export interface TlsMaterial {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** The identity (SAN URI under IDENTITY_PREFIX) a certificate names, if any. */
export function identityOf(certificate: Pick<PeerCertificate, 'subjectaltname'> | undefined): string | undefined {
  const names = certificate?.subjectaltname?.split(', ') ?? [];
  return names.find((n) => n.startsWith(`URI:${IDENTITY_PREFIX}`))?.slice('URI:'.length);
}

/**
 * What one process uses for every internal gRPC connection, built once from its configuration:
 * mutual TLS 1.3 with the cluster's CA (the default), or plaintext (`INTERNAL_TLS=off`, for
 * debugging only). The same credentials serve its internal server and dial its peers.
 */
export class InternalTransport {
  private channel?: ChannelCredentials;

  private constructor(
    private readonly material: TlsMaterial | undefined,
    /** This service's own identity, from its certificate. */
    readonly identity: string | undefined,
  ) {}

  /** No TLS: `INTERNAL_TLS=off`, and the gateway's public port until it has its own certificates. */
  static plaintext(): InternalTransport {
    return new InternalTransport(undefined, undefined);
  }

  /** Mutual TLS with `material`, checked (the key matches the certificate, the CA issued it); throws ConfigError. */
  static mutualTls(material: TlsMaterial): InternalTransport {
    const certificate = checkTlsMaterial(material);
    return new InternalTransport(material, identityOf({ subjectaltname: certificate.subjectAltName }));
  }

  get secure(): boolean {
    return this.material !== undefined;
  }

  /** Dials a peer: its certificate must come from the cluster's CA and name a cloudstore service. */
  channelCredentials(): ChannelCredentials {
    if (!this.material) return (this.channel ??= credentials.createInsecure());
    const { ca, cert, key } = this.material;
    this.channel ??= credentials.createFromSecureContext(
      createSecureContext({ ca, cert, key, minVersion: INTERNAL_TLS_MIN_VERSION }),
      {
        // Peers are known by the identity their certificate names (SPIFFE style), not by the
        // host name they were dialled at, so that a compose or k8s service name needs no reissue.
        checkServerIdentity: (_host, peer) =>
          identityOf(peer) ? undefined : new Error(`the peer's certificate names no ${IDENTITY_PREFIX} identity`),
      },
    );
    return this.channel;
  }

  /**
   * Channel options that go with `channelCredentials()`. The TLS server name is a fixed one:
   * peers are checked by identity, and an IP address there is deprecated in Node (RFC 6066).
   */
  channelOptions(): ChannelOptions {
    return this.material ? { 'grpc.ssl_target_name_override': 'cloudstore.internal' } : {};
  }

  /** Serves internal peers: a client without a certificate from the cluster's CA is refused in the handshake. */
  serverCredentials(): ServerCredentials {
    if (!this.material) return ServerCredentials.createInsecure();
    return new MutualTlsServerCredentials(this.material);
  }
}

/**
 * grpc-js's `ServerCredentials.createSsl(ca, pairs, true)` with a TLS 1.3 minimum, which
 * createSsl has no parameter for: the constructor options go to `http2.createSecureServer`.
 */
class MutualTlsServerCredentials extends ServerCredentials {
  constructor(private readonly material: TlsMaterial) {
    super(
      { requestCert: true, rejectUnauthorized: true, minVersion: INTERNAL_TLS_MIN_VERSION },
      { ca: material.ca, cert: material.cert, key: material.key },
    );
  }

  override _equals(other: ServerCredentials): boolean {
    return other instanceof MutualTlsServerCredentials && other.material === this.material;
  }
}

function checkTlsMaterial(material: TlsMaterial): X509Certificate {
  const parse = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (error) {
      throw new ConfigError(`${what} is not valid PEM (${error instanceof Error ? error.message : String(error)})`);
    }
  };
  const ca = parse('INTERNAL_CA_FILE', () => new X509Certificate(material.ca));
  const cert = parse('INTERNAL_CERT_FILE', () => new X509Certificate(material.cert));
  const key: KeyObject = parse('INTERNAL_KEY_FILE', () => createPrivateKey(material.key));
  if (!cert.checkPrivateKey(key))
    throw new ConfigError('INTERNAL_KEY_FILE is not the key of the certificate in INTERNAL_CERT_FILE');
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    throw new ConfigError('INTERNAL_CERT_FILE was not issued by the CA in INTERNAL_CA_FILE');
  }
  if (!identityOf({ subjectaltname: cert.subjectAltName })) {
    throw new ConfigError(`INTERNAL_CERT_FILE names no ${IDENTITY_PREFIX}<service> identity (SAN URI)`);
  }
  return cert;
}

/** The internal TLS settings of a service's configuration (INTERNAL_TLS, INTERNAL_*_FILE). */
export interface InternalTlsSettings {
  readonly INTERNAL_TLS: 'on' | 'off';
  readonly INTERNAL_CA_FILE: string;
  readonly INTERNAL_CERT_FILE: string;
  readonly INTERNAL_KEY_FILE: string;
}

/**
 * For a service's `main`: its InternalTransport, read and checked once at start. A missing or
 * unreadable file, or a key that does not match, is a ConfigError of one line. `INTERNAL_TLS=off`
 * is warned about at every start.
 */
export async function loadInternalTransport(
  settings: InternalTlsSettings,
  warn: (line: string) => void,
): Promise<InternalTransport> {
  if (settings.INTERNAL_TLS === 'off') {
    warn('INTERNAL_TLS=off: internal gRPC is plaintext and unauthenticated; anyone who reaches these ports is trusted');
    return InternalTransport.plaintext();
  }
  const read = async (variable: keyof InternalTlsSettings): Promise<Buffer> => {
    try {
      return await readFile(settings[variable]);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new ConfigError(`${variable} ${settings[variable]} cannot be read (${reason})`);
    }
  };
  const [ca, cert, key] = await Promise.all([read('INTERNAL_CA_FILE'), read('INTERNAL_CERT_FILE'), read('INTERNAL_KEY_FILE')]);
  return InternalTransport.mutualTls({ ca, cert, key });
}

/**
 * The identity of the service that made `call` (the SAN URI of its client certificate), or
 * undefined over plaintext. `call` is the grpc-js call a handler gets (NestJS passes it after
 * the metadata).
 */
export function callerIdentity(call: unknown): string | undefined {
  const getAuthContext = (call as { getAuthContext?: () => { sslPeerCertificate?: PeerCertificate } } | undefined)
    ?.getAuthContext;
  if (typeof getAuthContext !== 'function') return undefined;
  return identityOf(getAuthContext.call(call).sslPeerCertificate);
}
