import { randomBytes, X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { CloudStorageClient } from '@cloudstore/client';
import { CLOUD_STORAGE_SERVICE, type publicApi } from '@cloudstore/contracts';
import { GrpcServiceClient } from '@cloudstore/grpc';
import { createTestPki, RedisServer, type TestPki, tlsHandshake, waitFor } from '@cloudstore/testing';
import { Agent } from 'undici';
import { signUp, type TestUser } from './support/accounts';
import { RestClient } from './support/api-clients';
import { ClusterProcess } from './support/cluster-process';
import { grpcDownload, grpcUpload, sha256 } from './support/file-transfers';
import { SmtpSink } from './support/smtp-sink';

/**
 * The cluster as an operator runs it in the open: the public ports over TLS 1.3
 * (PUBLIC_TLS_CERT_FILE, PUBLIC_TLS_KEY_FILE) and a Redis that wants an ACL user's password
 * over TLS (rediss:// with REDIS_CA_FILE), which every service and its BullMQ workers use.
 */
describe('public TLS and a Redis with a password over TLS', () => {
  let pki: TestPki;
  let dir: string;
  let ca: Buffer;
  let redis: RedisServer;
  let smtp: SmtpSink;
  let cluster: ClusterProcess;
  let rest: RestClient;
  let tlsAgent: Agent;
  let grpc: GrpcServiceClient<publicApi.CloudStorageServiceClient>;
  let user: TestUser;
  const fingerprint: Record<'a' | 'b', string> = { a: '', b: '' };
  const certFile = () => join(dir, 'public.crt');
  const keyFile = () => join(dir, 'public.key');

  /** Puts certificate `name` where PUBLIC_TLS_*_FILE point, as a renewal would. */
  async function install(name: 'a' | 'b'): Promise<void> {
    const issued = pki.env(`public-${name}`);
    await copyFile(issued.INTERNAL_CERT_FILE, certFile());
    await copyFile(issued.INTERNAL_KEY_FILE, keyFile());
  }

  beforeAll(async () => {
    pki = await createTestPki(['public-a', 'public-b', 'redis']);
    dir = await mkdtemp(join(tmpdir(), 'cloudstore-public-tls-e2e-'));
    ca = await readFile(pki.env('redis').INTERNAL_CA_FILE);
    for (const name of ['a', 'b'] as const)
      fingerprint[name] = new X509Certificate(await readFile(pki.env(`public-${name}`).INTERNAL_CERT_FILE)).fingerprint256;
    await install('a');
    const redisFiles = pki.env('redis');
    redis = await RedisServer.start({
      password: `default-${randomBytes(6).toString('hex')}`,
      aclUser: { name: 'cloudstore', password: `acl-${randomBytes(6).toString('hex')}` },
      tls: {
        certFile: redisFiles.INTERNAL_CERT_FILE,
        keyFile: redisFiles.INTERNAL_KEY_FILE,
        caFile: redisFiles.INTERNAL_CA_FILE,
      },
    });
    smtp = await SmtpSink.start();
    cluster = await ClusterProcess.start({
      SMTP_URL: smtp.url,
      ...redis.settings('acl-user'),
      PUBLIC_TLS_CERT_FILE: certFile(),
      PUBLIC_TLS_KEY_FILE: keyFile(),
    });
    await cluster.waitUntilReady();
    tlsAgent = new Agent({ connect: { ca } });
    rest = new RestClient(cluster.httpUrl, undefined, tlsAgent);
    // The certificate names localhost too; a TLS server name may not be an IP address (RFC 6066).
    grpc = new GrpcServiceClient(CLOUD_STORAGE_SERVICE, `127.0.0.1:${cluster.ports.grpc}`, credentials.createSsl(ca), 30_000, {
      'grpc.ssl_target_name_override': 'localhost',
    });
    user = await signUp(rest, smtp, 'tls');
  });

  afterAll(async () => {
    grpc?.close();
    await tlsAgent?.close();
    await cluster?.destroy();
    await smtp?.close();
    await redis?.destroy();
    await rm(dir, { recursive: true, force: true });
    await pki?.remove();
  });

  it('says where it listens with https, and never prints a Redis password', () => {
    expect(cluster.httpUrl).toMatch(/^https:\/\//);
    expect(cluster.output).toMatch(/^cloudstore: ready: REST https:\/\/127\.0\.0\.1:\d+, gRPC 127\.0\.0\.1:\d+ \(TLS\)/m);
    expect(cluster.output).toContain(`Redis rediss://cloudstore:***@127.0.0.1:${redis.port}/0`);
    const password = new URL(redis.settings('acl-user').REDIS_URL).password;
    expect(cluster.output).not.toContain(password);
  });

  it('negotiates TLS 1.3 on the REST and gRPC ports and refuses TLS 1.2 on both', async () => {
    for (const [port, alpn] of [
      [cluster.ports.http, 'http/1.1'],
      [cluster.ports.grpc, 'h2'],
    ] as const) {
      await expect(tlsHandshake(port, ca, { alpn })).resolves.toMatchObject({ protocol: 'TLSv1.3' });
      await expect(tlsHandshake(port, ca, { alpn, maxVersion: 'TLSv1.2' })).rejects.toThrow(
        /protocol version|unsupported protocol/i,
      );
    }
  });

  it('serves REST over https: register, login, upload and download, with HSTS', async () => {
    const data = randomBytes(300_000);
    const put = await rest.fetch('/v1/files?filename=over-https.bin', {
      method: 'PUT',
      headers: { authorization: `Bearer ${user.token}` },
      body: data,
    });
    expect(put.status).toBe(201);
    expect(put.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    const { file_id: fileId } = (await put.json()) as { file_id: string };
    const got = await rest.fetch(`/v1/files/${fileId}/content`, { headers: { authorization: `Bearer ${user.token}` } });
    expect(got.status).toBe(200);
    expect(sha256(Buffer.from(await got.arrayBuffer()))).toBe(sha256(data));
  });

  it('serves gRPC with TLS credentials: login with the mailed code, upload and download', async () => {
    const before = smtp.mailsTo(user.email).length;
    const login = await grpc.call('login', { username: user.username, password: user.password });
    const verified = await grpc.call('verifyOtp', { sessionId: login.sessionId, otp: await smtp.codeFor(user.email, before) });
    const data = randomBytes(5 * 1024 * 1024 + 17);
    const uploaded = await grpcUpload(grpc, verified.authToken, 'over-grpc-tls.bin', data).done;
    expect(uploaded.checksum).toBe(sha256(data));
    const downloaded = await grpcDownload(grpc, verified.authToken, uploaded.fileId);
    expect(sha256(downloaded.data)).toBe(sha256(data));
  });

  it('reloads the certificate on SIGHUP to npm start: new connections get it, an upload in flight goes on', async () => {
    const gatewayPid = cluster.pidOf('gateway');
    const data = randomBytes(2 * 1024 * 1024);
    // A slow gRPC upload on a connection opened before the reload.
    const upload = grpcUpload(grpc, user.token, 'across-reload.bin', data, { pieceSize: 64 * 1024, gapMs: 50 });
    await expect(tlsHandshake(cluster.ports.http, ca)).resolves.toMatchObject({ fingerprint: fingerprint.a });

    await install('b');
    cluster.signal('SIGHUP');
    await waitFor(
      'new REST connections to get the new certificate',
      async () => (await tlsHandshake(cluster.ports.http, ca)).fingerprint === fingerprint.b,
      15_000,
      100,
    );
    await expect(tlsHandshake(cluster.ports.grpc, ca, { alpn: 'h2' })).resolves.toEqual({
      protocol: 'TLSv1.3',
      fingerprint: fingerprint.b,
    });

    const uploaded = await upload.done;
    expect(uploaded.checksum).toBe(sha256(data));
    expect(cluster.pidOf('gateway')).toBe(gatewayPid);
    expect(cluster.output).toContain('cloudstore: SIGHUP: the gateway re-reads its public TLS certificate');
    const listed = await rest.get<{ files: { file_id: string }[] }>('/v1/files', user.token);
    expect(listed.body.files.map((f) => f.file_id)).toContain(uploaded.fileId);
  });

  it('lets the SDK in over TLS when given the CA, and not without it', async () => {
    const now = Math.floor(Date.now() / 1000);
    const tokens = {
      accessToken: user.token,
      expiresAt: now + 600,
      refreshToken: user.refreshToken,
      refreshExpiresAt: now + 3600,
    };
    // The certificate names localhost: the SDK verifies the name it connects to.
    const client = new CloudStorageClient({ address: `localhost:${cluster.ports.grpc}`, ca, tokens });
    const refused = new CloudStorageClient({ address: `localhost:${cluster.ports.grpc}`, tokens, timeoutMs: 5_000 });
    try {
      const data = randomBytes(300_000);
      const file = await client.uploadFile(data, { filename: 'sdk-over-tls.bin' });
      expect(file.checksum).toBe(sha256(data));
      const opened = await client.openDownload(file.fileId);
      const pieces: Buffer[] = [];
      for await (const piece of opened.stream) pieces.push(piece as Buffer);
      expect(sha256(Buffer.concat(pieces))).toBe(sha256(data));
      await expect(refused.listFiles()).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    } finally {
      client.close();
      refused.close();
    }
  });
});
