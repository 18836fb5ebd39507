import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { credentials, Server, ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import { ConfigError } from '@cloudstore/config';
import { HealthImplementation } from 'grpc-health-check';
import { checkGrpcHealth } from '../health-client';
import { clusterPkiFiles, ensureClusterPki } from './cluster-pki';
import { callerIdentity, InternalTransport, loadInternalTransport } from './internal-transport';

describe(InternalTransport.name, () => {
  let dir: string;
  let otherDir: string;
  const load = (pkiDir: string, name: string) =>
    loadInternalTransport({ INTERNAL_TLS: 'on', ...clusterPkiFiles(pkiDir, name) }, () => undefined);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pki-spec-'));
    otherDir = await mkdtemp(join(tmpdir(), 'pki-spec-other-'));
    await ensureClusterPki(dir, ['metadata', 'gateway', 'node-1']);
    await ensureClusterPki(otherDir, ['gateway']);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(otherDir, { recursive: true, force: true });
  });

  describe('a server with the cluster certificates', () => {
    let server: Server;
    let address: string;
    const callers: (string | undefined)[] = [];

    beforeAll(async () => {
      const sut = await load(dir, 'metadata');
      const recordCaller: ServerInterceptor = (_method, call) => {
        callers.push(callerIdentity(call));
        return new ServerInterceptingCall(call);
      };
      server = new Server({ interceptors: [recordCaller] });
      new HealthImplementation({ '': 'SERVING' }).addToServer(server);
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', sut.serverCredentials(), (error, bound) => (error ? reject(error) : resolve(bound))),
      );
      address = `127.0.0.1:${port}`;
    });

    afterAll(() => server.forceShutdown());

    it('serves a peer with a certificate from the cluster CA, and knows who it is', async () => {
      expect(await checkGrpcHealth(address, await load(dir, 'gateway'))).toBe('SERVING');
      expect(await checkGrpcHealth(address, await load(dir, 'node-1'))).toBe('SERVING');
      expect(callers).toEqual(['spiffe://cloudstore/gateway', 'spiffe://cloudstore/node-1']);
    });

    it('refuses a plaintext peer', async () => {
      await expect(checkGrpcHealth(address, InternalTransport.plaintext(), '', 1000)).rejects.toThrow(address);
    });

    it('refuses a TLS peer without a client certificate', async () => {
      const ca = await readFile(join(dir, 'ca.crt'));
      await expect(checkGrpcHealth(address, credentials.createSsl(ca), '', 1000)).rejects.toThrow(address);
    });

    it('refuses a peer whose certificate comes from another CA', async () => {
      const other = clusterPkiFiles(otherDir, 'gateway');
      const [key, cert] = await Promise.all([readFile(other.INTERNAL_KEY_FILE), readFile(other.INTERNAL_CERT_FILE)]);
      const trustsBoth = Buffer.concat([await readFile(join(dir, 'ca.crt')), await readFile(other.INTERNAL_CA_FILE)]);
      await expect(checkGrpcHealth(address, credentials.createSsl(trustsBoth, key, cert), '', 1000)).rejects.toThrow(address);
    });

    it('refuses TLS 1.2, even with a valid client certificate', async () => {
      const files = clusterPkiFiles(dir, 'gateway');
      const [ca, key, cert] = await Promise.all(
        [files.INTERNAL_CA_FILE, files.INTERNAL_KEY_FILE, files.INTERNAL_CERT_FILE].map((f) => readFile(f)),
      );
      const outcome = await new Promise<string>((resolve) => {
        const socket = connect({
          host: '127.0.0.1',
          port: Number(address.split(':')[1]),
          ca,
          key,
          cert,
          maxVersion: 'TLSv1.2',
          ALPNProtocols: ['h2'],
        });
        socket.once('secureConnect', () => resolve(`connected with ${socket.getProtocol()}`));
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      });
      expect(outcome).toMatch(/PROTOCOL_VERSION|VERSION/);
    });

    it('is not trusted by a client of another cluster', async () => {
      await expect(checkGrpcHealth(address, await load(otherDir, 'gateway'), '', 1000)).rejects.toThrow(address);
    });
  });

  describe(loadInternalTransport.name, () => {
    it('warns once and goes plaintext with INTERNAL_TLS=off', async () => {
      const warnings: string[] = [];
      const sut = await loadInternalTransport({ INTERNAL_TLS: 'off', ...clusterPkiFiles('/nonexistent', 'gateway') }, (line) =>
        warnings.push(line),
      );
      expect(sut.secure).toBe(false);
      expect(warnings).toEqual([expect.stringContaining('INTERNAL_TLS=off')]);
    });

    it('names its own identity', async () => {
      expect((await load(dir, 'node-1')).identity).toBe('spiffe://cloudstore/node-1');
    });

    it.each([
      [
        'a missing file',
        (f: ReturnType<typeof clusterPkiFiles>) => ({ ...f, INTERNAL_CERT_FILE: '/nonexistent/x.crt' }),
        'INTERNAL_CERT_FILE /nonexistent/x.crt cannot be read (ENOENT)',
      ],
      [
        'a key of another certificate',
        (f: ReturnType<typeof clusterPkiFiles>) => ({
          ...f,
          INTERNAL_KEY_FILE: clusterPkiFiles(dir, 'gateway').INTERNAL_KEY_FILE,
        }),
        'INTERNAL_KEY_FILE is not the key of the certificate in INTERNAL_CERT_FILE',
      ],
      [
        'a certificate of another CA',
        (f: ReturnType<typeof clusterPkiFiles>) => ({
          ...f,
          INTERNAL_CA_FILE: clusterPkiFiles(otherDir, 'gateway').INTERNAL_CA_FILE,
        }),
        'INTERNAL_CERT_FILE was not issued by the CA in INTERNAL_CA_FILE',
      ],
      [
        'a file that is no certificate',
        (f: ReturnType<typeof clusterPkiFiles>) => ({ ...f, INTERNAL_CERT_FILE: f.INTERNAL_KEY_FILE }),
        'INTERNAL_CERT_FILE is not valid PEM',
      ],
    ])('fails with one line for %s', async (_what, change, message) => {
      const files = change(clusterPkiFiles(dir, 'metadata'));
      const attempt = loadInternalTransport({ INTERNAL_TLS: 'on', ...files }, () => undefined);
      await expect(attempt).rejects.toThrow(ConfigError);
      await expect(attempt).rejects.toThrow(message);
    });
  });

  describe(ensureClusterPki.name, () => {
    it('creates a CA and per-service certificates once, keys 0600, each naming its service', async () => {
      const fresh = await mkdtemp(join(tmpdir(), 'pki-spec-fresh-'));
      try {
        const [first, second] = await Promise.all([ensureClusterPki(fresh, ['auth']), ensureClusterPki(fresh, ['auth'])]);
        expect([...first, ...second].sort()).toEqual(['auth.crt', 'auth.key', 'ca.crt', 'ca.key'].map((f) => join(fresh, f)));
        const before = await readFile(join(fresh, 'auth.crt'), 'utf8');
        expect(await ensureClusterPki(fresh, ['auth'])).toEqual([]);
        expect(await readFile(join(fresh, 'auth.crt'), 'utf8')).toBe(before);
        const certificate = new X509Certificate(before);
        expect(certificate.subjectAltName).toBe('URI:spiffe://cloudstore/auth, DNS:localhost, IP Address:127.0.0.1');
        expect(certificate.verify(new X509Certificate(await readFile(join(fresh, 'ca.crt'))).publicKey)).toBe(true);
        for (const key of ['ca.key', 'auth.key']) expect((await stat(join(fresh, key))).mode & 0o777).toBe(0o600);
        // Racing callers end with one consistent set that loads.
        await expect(load(fresh, 'auth')).resolves.toBeDefined();
      } finally {
        await rm(fresh, { recursive: true, force: true });
      }
    });
  });
});
