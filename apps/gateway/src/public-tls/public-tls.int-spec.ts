import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { Agent, createServer as createHttpsServer, request, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import {
  type ClientReadableStream,
  credentials,
  makeClientConstructor,
  Server as GrpcServer,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { ConfigError } from '@cloudstore/config';
import { createLogger } from '@cloudstore/observability';
import { createTestPki, type TestPki, tlsHandshake, waitFor } from '@cloudstore/testing';
import express from 'express';
import { HealthImplementation, service as healthService } from 'grpc-health-check';
import { securityHeaders } from '../http/security-headers';
import { PublicTls, reloadPublicTlsOnSighup, STRICT_TRANSPORT_SECURITY } from './public-tls';

const HealthClient: ServiceClientConstructor = makeClientConstructor(healthService, 'grpc.health.v1.Health');

describe(PublicTls.name, () => {
  let pki: TestPki;
  let dir: string;
  let ca: Buffer;
  /** Fingerprints of the two certificates the tests serve: "a" at start, "b" after a reload. */
  const fingerprint: Record<'a' | 'b', string> = { a: '', b: '' };
  const files = () => ({ PUBLIC_TLS_CERT_FILE: join(dir, 'public.crt'), PUBLIC_TLS_KEY_FILE: join(dir, 'public.key') });

  /** Puts certificate `name` of the test PKI where PUBLIC_TLS_*_FILE point (as a renewal would). */
  async function install(name: 'a' | 'b'): Promise<void> {
    const issued = pki.env(`public-${name}`);
    await copyFile(issued.INTERNAL_CERT_FILE, files().PUBLIC_TLS_CERT_FILE);
    await copyFile(issued.INTERNAL_KEY_FILE, files().PUBLIC_TLS_KEY_FILE);
  }

  beforeAll(async () => {
    pki = await createTestPki(['public-a', 'public-b']);
    dir = await mkdtemp(join(tmpdir(), 'cloudstore-public-tls-'));
    ca = await readFile(pki.env('public-a').INTERNAL_CA_FILE);
    for (const name of ['a', 'b'] as const) {
      fingerprint[name] = new X509Certificate(await readFile(pki.env(`public-${name}`).INTERNAL_CERT_FILE)).fingerprint256;
    }
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await pki.remove();
  });

  describe('load', () => {
    it('is undefined when neither file is set: the ports stay plaintext', async () => {
      await expect(PublicTls.load({})).resolves.toBeUndefined();
    });

    it('refuses, with one line, one file alone, an unreadable file, a file that is no PEM, and a key of another certificate', async () => {
      await install('a');
      const { PUBLIC_TLS_CERT_FILE: cert, PUBLIC_TLS_KEY_FILE: key } = files();
      const otherKey = pki.env('public-b').INTERNAL_KEY_FILE;
      const cases: [Record<string, string>, RegExp][] = [
        [{ PUBLIC_TLS_CERT_FILE: cert }, /^PUBLIC_TLS_CERT_FILE and PUBLIC_TLS_KEY_FILE must be set together \(or neither\)$/],
        [
          { PUBLIC_TLS_CERT_FILE: join(dir, 'missing.crt'), PUBLIC_TLS_KEY_FILE: key },
          /^PUBLIC_TLS_CERT_FILE \S+missing\.crt cannot be read \(ENOENT\)$/,
        ],
        [{ PUBLIC_TLS_CERT_FILE: key, PUBLIC_TLS_KEY_FILE: key }, /^PUBLIC_TLS_CERT_FILE \S+ holds no PEM certificate$/],
        [{ PUBLIC_TLS_CERT_FILE: cert, PUBLIC_TLS_KEY_FILE: cert }, /^PUBLIC_TLS_KEY_FILE \S+ holds no PEM key$/],
        [
          { PUBLIC_TLS_CERT_FILE: cert, PUBLIC_TLS_KEY_FILE: otherKey },
          /^PUBLIC_TLS_KEY_FILE \S+ is not the key of the certificate in PUBLIC_TLS_CERT_FILE \S+$/,
        ],
      ];
      for (const [env, message] of cases) {
        const error = await PublicTls.load(env).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).message).toMatch(message);
      }
    });
  });

  describe('serving the public ports', () => {
    let sut: PublicTls;
    let https: HttpsServer;
    let http: HttpServer;
    let grpc: GrpcServer;
    let health: HealthImplementation;
    let grpcPort: number;
    const port = (server: HttpsServer | HttpServer) => (server.address() as AddressInfo).port;

    beforeEach(async () => {
      await install('a');
      sut = (await PublicTls.load(files())) as PublicTls;
      const app = express();
      app.use(securityHeaders);
      app.get('/probe', (_req, res) => void res.json({ ok: true }));
      https = createHttpsServer(sut.httpsOptions, app).listen(0, '127.0.0.1');
      sut.serve(https);
      http = createHttpServer(app).listen(0, '127.0.0.1');
      await Promise.all([once(https, 'listening'), once(http, 'listening')]);
      health = new HealthImplementation({ '': 'SERVING' });
      grpc = new GrpcServer();
      health.addToServer(grpc);
      grpcPort = await new Promise<number>((resolve, reject) =>
        grpc.bindAsync('127.0.0.1:0', sut.grpcCredentials, (error, bound) => (error ? reject(error) : resolve(bound))),
      );
    });

    afterEach(async () => {
      grpc.forceShutdown();
      https.closeAllConnections();
      http.closeAllConnections();
      await Promise.all([new Promise((r) => https.close(r)), new Promise((r) => http.close(r))]);
    });

    function healthClient() {
      return new HealthClient(`127.0.0.1:${grpcPort}`, credentials.createSsl(ca), {
        'grpc.ssl_target_name_override': 'localhost',
      });
    }

    it('negotiates TLS 1.3 on both ports and refuses a TLS 1.2 client in the handshake', async () => {
      await expect(tlsHandshake(port(https), ca, { alpn: 'http/1.1' })).resolves.toEqual({
        protocol: 'TLSv1.3',
        fingerprint: fingerprint.a,
      });
      await expect(tlsHandshake(grpcPort, ca, { alpn: 'h2' })).resolves.toEqual({
        protocol: 'TLSv1.3',
        fingerprint: fingerprint.a,
      });
      await expect(tlsHandshake(port(https), ca, { alpn: 'http/1.1', maxVersion: 'TLSv1.2' })).rejects.toThrow(
        /protocol version|unsupported protocol/i,
      );
      await expect(tlsHandshake(grpcPort, ca, { alpn: 'h2', maxVersion: 'TLSv1.2' })).rejects.toThrow(
        /protocol version|unsupported protocol/i,
      );
    });

    it('sends HSTS on answers over TLS only', async () => {
      const overTls = await new Promise<Record<string, unknown>>((resolve, reject) =>
        request({ host: '127.0.0.1', port: port(https), path: '/probe', ca, servername: 'localhost' }, (res) => {
          res.resume();
          resolve(res.headers);
        })
          .on('error', reject)
          .end(),
      );
      expect(overTls['strict-transport-security']).toBe(STRICT_TRANSPORT_SECURITY);
      const plain = await fetch(`http://127.0.0.1:${port(http)}/probe`, { headers: { 'x-forwarded-proto': 'https' } });
      expect(plain.status).toBe(200);
      expect(plain.headers.get('strict-transport-security')).toBeNull();
      expect(plain.headers.get('x-content-type-options')).toBe('nosniff');
    });

    it('on SIGHUP serves the new certificate to new connections and keeps open ones (REST and a gRPC stream)', async () => {
      const logger = createLogger('gateway', 'silent');
      const stopListening = reloadPublicTlsOnSighup(sut, logger);
      const agent = new Agent({ keepAlive: true, maxSockets: 1, ca, servername: 'localhost' });
      const get = () =>
        new Promise<{ status: number; socket: TLSSocket }>((resolve, reject) =>
          request({ host: '127.0.0.1', port: port(https), path: '/probe', agent }, (res) => {
            // Taken now: once the answer is read, the socket goes back to the agent's pool.
            const socket = res.socket as TLSSocket;
            res.resume();
            res.once('end', () => resolve({ status: res.statusCode ?? 0, socket }));
          })
            .on('error', reject)
            .end(),
        );
      const client = healthClient();
      const seen: string[] = [];
      const watchMethod = client['watch'] as (request: { service: string }) => ClientReadableStream<{ status: string }>;
      const watch = watchMethod.call(client, { service: '' });
      watch.on('data', (m: { status: string }) => seen.push(m.status));
      watch.on('error', () => undefined);
      try {
        const before = await get();
        expect(before.socket.getPeerCertificate().fingerprint256).toBe(fingerprint.a);
        await waitFor('the watch to report', () => seen.includes('SERVING'), 5000, 20);

        await install('b');
        // The handler as the signal calls it (a real SIGHUP to the gateway: public-tls.e2e-spec).
        process.emit('SIGHUP', 'SIGHUP');
        await waitFor(
          'new connections to get the new certificate',
          async () => (await tlsHandshake(port(https), ca, { alpn: 'http/1.1' })).fingerprint === fingerprint.b,
          5000,
          20,
        );
        await expect(tlsHandshake(grpcPort, ca, { alpn: 'h2' })).resolves.toEqual({
          protocol: 'TLSv1.3',
          fingerprint: fingerprint.b,
        });
        await expect(tlsHandshake(grpcPort, ca, { alpn: 'h2', maxVersion: 'TLSv1.2' })).rejects.toThrow(
          /protocol version|unsupported protocol/i,
        );
        await expect(tlsHandshake(port(https), ca, { alpn: 'http/1.1', maxVersion: 'TLSv1.2' })).rejects.toThrow(
          /protocol version|unsupported protocol/i,
        );

        // The open REST connection goes on, on its old certificate; the open gRPC stream still receives.
        const after = await get();
        expect(after.status).toBe(200);
        expect(after.socket).toBe(before.socket);
        expect(after.socket.getPeerCertificate().fingerprint256).toBe(fingerprint.a);
        health.setStatus('', 'NOT_SERVING');
        await waitFor('the open stream to see the change', () => seen.includes('NOT_SERVING'), 5000, 20);
        expect(sut.served.fingerprint256).toBe(fingerprint.b);
      } finally {
        watch.cancel();
        client.close();
        agent.destroy();
        stopListening();
      }
    });

    it('keeps serving the previous certificate when the new files cannot be used', async () => {
      await copyFile(pki.env('public-b').INTERNAL_KEY_FILE, files().PUBLIC_TLS_KEY_FILE);
      await expect(sut.reload()).rejects.toThrow(/is not the key of the certificate/);
      await expect(tlsHandshake(port(https), ca, { alpn: 'http/1.1' })).resolves.toMatchObject({ fingerprint: fingerprint.a });
      await expect(tlsHandshake(grpcPort, ca, { alpn: 'h2' })).resolves.toMatchObject({ fingerprint: fingerprint.a });
      expect(sut.served.fingerprint256).toBe(fingerprint.a);
    });
  });
});
