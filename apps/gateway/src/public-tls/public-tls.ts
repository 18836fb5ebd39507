import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { SecureContextOptions, Server as TlsServer } from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';
import { ConfigError } from '@cloudstore/config';
import type { Logger } from '@cloudstore/observability';

/** The public ports speak TLS 1.3 only: 1.2 and older are refused in the handshake. */
export const PUBLIC_TLS_MIN_VERSION = 'TLSv1.3';

/** What REST answers served over TLS carry: browsers keep to https for a year, subdomains too. */
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000; includeSubDomains';

/** The gateway's settings that name the public certificate and key (both set, or neither). */
export interface PublicTlsFiles {
  readonly PUBLIC_TLS_CERT_FILE?: string | undefined;
  readonly PUBLIC_TLS_KEY_FILE?: string | undefined;
}

/** A certificate chain and its key, read and checked. */
interface KeyPair {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly certificate: X509Certificate;
}

function contextOptions(pair: KeyPair): SecureContextOptions {
  return { cert: pair.cert, key: pair.key, minVersion: PUBLIC_TLS_MIN_VERSION };
}

/** Reads both files and checks that they are PEM and belong together; else a ConfigError of one line. */
async function readKeyPair(certFile: string, keyFile: string): Promise<KeyPair> {
  const read = async (variable: string, path: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new ConfigError(`${variable} ${path} cannot be read (${reason})`);
    }
  };
  const [cert, key] = await Promise.all([read('PUBLIC_TLS_CERT_FILE', certFile), read('PUBLIC_TLS_KEY_FILE', keyFile)]);
  const parse = <T>(variable: string, what: string, fn: () => T): T => {
    try {
      return fn();
    } catch {
      throw new ConfigError(`${variable} ${what === 'key' ? keyFile : certFile} holds no PEM ${what}`);
    }
  };
  const certificate = parse('PUBLIC_TLS_CERT_FILE', 'certificate', () => new X509Certificate(cert));
  const privateKey = parse('PUBLIC_TLS_KEY_FILE', 'key', () => createPrivateKey(key));
  if (!certificate.checkPrivateKey(privateKey))
    throw new ConfigError(`PUBLIC_TLS_KEY_FILE ${keyFile} is not the key of the certificate in PUBLIC_TLS_CERT_FILE ${certFile}`);
  return { cert, key, certificate };
}

/**
 * grpc-js server credentials whose certificate can be replaced: grpc-js watches them and gives
 * its server the new secure context (`setSecureContext`), which new connections get; open ones
 * keep theirs.
 */
class ReloadableServerCredentials extends ServerCredentials {
  constructor(pair: KeyPair) {
    super({ minVersion: PUBLIC_TLS_MIN_VERSION }, contextOptions(pair));
  }

  replace(pair: KeyPair): void {
    this.updateSecureContextOptions(contextOptions(pair));
  }

  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

/**
 * The TLS of the gateway's public gRPC and REST ports, from PUBLIC_TLS_CERT_FILE and
 * PUBLIC_TLS_KEY_FILE: TLS 1.3 minimum, and the files read again on `reload()` (SIGHUP), which
 * new connections then get without any open one being dropped.
 */
export class PublicTls {
  private readonly servers: TlsServer[] = [];
  private readonly grpc: ReloadableServerCredentials;

  private constructor(
    private readonly files: { readonly cert: string; readonly key: string },
    private pair: KeyPair,
  ) {
    this.grpc = new ReloadableServerCredentials(pair);
  }

  /** The public TLS of `files`, checked; undefined when neither is set (plaintext ports). */
  static async load(files: PublicTlsFiles): Promise<PublicTls | undefined> {
    const { PUBLIC_TLS_CERT_FILE: cert, PUBLIC_TLS_KEY_FILE: key } = files;
    if (cert === undefined && key === undefined) return undefined;
    if (cert === undefined || key === undefined)
      throw new ConfigError('PUBLIC_TLS_CERT_FILE and PUBLIC_TLS_KEY_FILE must be set together (or neither)');
    return new PublicTls({ cert, key }, await readKeyPair(cert, key));
  }

  /** The public gRPC server's credentials. */
  get grpcCredentials(): ServerCredentials {
    return this.grpc;
  }

  /** Options of the REST server (`https.createServer`), as loaded now; `serve` keeps it current. */
  get httpsOptions(): SecureContextOptions {
    return contextOptions(this.pair);
  }

  /** What the certificate served now names and until when, for logs. */
  get served(): { subject: string; validTo: string; fingerprint256: string } {
    const { subject, validTo, fingerprint256 } = this.pair.certificate;
    return { subject: subject.replace(/\n/g, ', '), validTo, fingerprint256 };
  }

  /** Keeps `server` (the REST port) on the current certificate through reloads. */
  serve(server: TlsServer): void {
    this.servers.push(server);
  }

  /** Reads the files again and serves them to new connections; on a ConfigError the served certificate stays. */
  async reload(): Promise<void> {
    const pair = await readKeyPair(this.files.cert, this.files.key);
    for (const server of this.servers) server.setSecureContext(contextOptions(pair));
    this.grpc.replace(pair);
    this.pair = pair;
  }
}

/**
 * SIGHUP re-reads the public certificate (a renewed one is served to new connections, open ones
 * go on); a file that cannot be used is logged and the previous certificate stays. Without
 * public TLS, SIGHUP is logged and ignored instead of ending the process.
 */
export function reloadPublicTlsOnSighup(tls: PublicTls | undefined, logger: Logger): () => void {
  const onHangup = () => {
    if (!tls) {
      logger.info('SIGHUP: no public TLS configured (PUBLIC_TLS_CERT_FILE, PUBLIC_TLS_KEY_FILE); nothing to reload');
      return;
    }
    tls.reload().then(
      () => logger.info({ certificate: tls.served }, 'public TLS certificate reloaded'),
      (error: unknown) =>
        logger.error(
          { certificate: tls.served },
          `public TLS certificate not reloaded, the previous one is still served: ${error instanceof Error ? error.message : String(error)}`,
        ),
    );
  };
  process.on('SIGHUP', onHangup);
  return () => process.off('SIGHUP', onHangup);
}
