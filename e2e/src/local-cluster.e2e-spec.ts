import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { checkGrpcHealth, InternalTransport } from '@cloudstore/grpc';
import { waitFor } from '@cloudstore/testing';
import { ClusterProcess, isAlive, METRICS_PORT_OFFSET } from './support/cluster-process';
import { TestCluster } from './support/test-cluster';

interface Readiness {
  status: string;
  failed: string[];
  checks: { storage_nodes: { up: number; total: number; nodes: { node_id: string; status: string }[] } };
}

const ADMIN = { username: 'cluster_admin', email: 'cluster-admin@example.com', password: 'Admin-Passw0rd-2026!' };

/** The readiness details, which only an admin's token is shown. */
async function readyz(cluster: ClusterProcess, token: string): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(`${cluster.httpUrl}/readyz`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Readiness };
}

describe('npm start: the local cluster', () => {
  const env = TestCluster.perFile({}, { admin: ADMIN });
  let cluster: ClusterProcess;
  let adminToken: string;

  beforeAll(() => {
    cluster = env.cluster;
    adminToken = env.admin.token;
  });

  it('runs six processes and says where each listens', () => {
    for (const name of ['gateway', 'auth', 'metadata', 'node-0', 'node-1', 'node-2']) {
      expect(cluster.pidOf(name)).toEqual(expect.any(Number));
    }
    expect(cluster.output).toContain(`gRPC 127.0.0.1:${cluster.ports.grpc}`);
    expect(cluster.output).toContain(`REST ${cluster.httpUrl}`);
    expect(cluster.output).toMatch(/ready: .*3\/3 storage nodes up/);
  });

  it('is ready, naming three storage nodes up', async () => {
    const { status, body } = await readyz(cluster, adminToken);
    expect(status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.checks.storage_nodes.nodes.map((n) => [n.node_id, n.status])).toEqual([
      ['node-0', 'up'],
      ['node-1', 'up'],
      ['node-2', 'up'],
    ]);
  });

  it('answers grpc.health.v1 SERVING on every gRPC port, internal ones over mutual TLS only', async () => {
    const publicPort = credentials.createInsecure();
    expect(await checkGrpcHealth(`127.0.0.1:${cluster.ports.grpc}`, publicPort)).toBe('SERVING');
    expect(await checkGrpcHealth(`127.0.0.1:${cluster.ports.grpc}`, publicPort, 'CloudStorageService')).toBe('SERVING');
    const internal = await cluster.internalTransport();
    const addresses = [
      cluster.ports.auth,
      cluster.ports.metadata,
      cluster.ports.nodeBase,
      cluster.ports.nodeBase + 1,
      cluster.ports.nodeBase + 2,
    ].map((port) => `127.0.0.1:${port}`);
    expect(await Promise.all(addresses.map((a) => checkGrpcHealth(a, internal)))).toEqual(addresses.map(() => 'SERVING'));
    for (const address of addresses) {
      await expect(checkGrpcHealth(address, InternalTransport.plaintext(), '', 1000)).rejects.toThrow(address);
    }
  });

  it('created its dev PKI once: a CA and one certificate per service naming it, keys 0600', async () => {
    const pki = join(cluster.dataDir, 'pki');
    expect(cluster.output).toContain(`created the dev PKI for internal mutual TLS: 14 files in ${pki}`);
    for (const name of ['gateway', 'auth', 'metadata', 'node-0', 'node-1', 'node-2']) {
      const certificate = new X509Certificate(await readFile(join(pki, `${name}.crt`)));
      expect(certificate.subjectAltName).toBe(`URI:spiffe://cloudstore/${name}, DNS:localhost, IP Address:127.0.0.1`);
      expect((await stat(join(pki, `${name}.key`))).mode & 0o777).toBe(0o600);
    }
    expect((await stat(join(pki, 'ca.key'))).mode & 0o777).toBe(0o600);
  });

  it('serves liveness, Prometheus metrics and OpenAPI on the gateway', async () => {
    const health = await fetch(`${cluster.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${cluster.httpUrl}/metrics`)).text();
    expect(metrics).toContain('process_cpu_user_seconds_total');
    expect(metrics).toMatch(/http_requests_total\{.*route="\/readyz".*\}/);
    const docs = await fetch(`${cluster.httpUrl}/docs/openapi.json`);
    expect(docs.status).toBe(200);
    expect(((await docs.json()) as { openapi: string }).openapi).toMatch(/^3\./);
  });

  it('exposes per-RPC metrics of every internal service on its own port', async () => {
    const metadata = await (await fetch(`http://127.0.0.1:${cluster.ports.metadata + METRICS_PORT_OFFSET}/metrics`)).text();
    expect(metadata).toMatch(/grpc_server_handled_total\{.*grpc_method="RegisterNode".*grpc_code="OK".*\}/);
    expect(metadata).toContain('grpc_server_handling_seconds_bucket');
    for (const port of [cluster.ports.auth, cluster.ports.nodeBase]) {
      expect((await fetch(`http://127.0.0.1:${port + METRICS_PORT_OFFSET}/metrics`)).status).toBe(200);
    }
  });

  it('restarts a killed storage node, which registers again; /readyz shows it down meanwhile', async () => {
    const before = cluster.pidOf('node-1');
    expect(before).toBeDefined();
    process.kill(before as number, 'SIGKILL');
    await waitFor(
      'node-1 reported down',
      async () => {
        const { body } = await readyz(cluster, adminToken);
        return body.checks.storage_nodes.nodes.find((n) => n.node_id === 'node-1')?.status === 'down';
      },
      5000,
      50,
    );
    await cluster.waitForLine(/^cloudstore: node-1 killed by SIGKILL; restarting in/);
    await waitFor('node-1 restarted with a new pid', () => cluster.pidOf('node-1') !== before, 15_000);
    await waitFor(
      'node-1 up again',
      async () => {
        const { status, body } = await readyz(cluster, adminToken);
        return status === 200 && body.checks.storage_nodes.up === 3;
      },
      30_000,
    );
    expect(await checkGrpcHealth(cluster.nodeAddress(1), await cluster.internalTransport())).toBe('SERVING');
  });
});

describe('npm start: stopping', () => {
  // Its own cluster: stopping the one the other tests use would break them, in any order.
  let cluster: ClusterProcess;

  beforeAll(async () => {
    cluster = await ClusterProcess.start({}, 1);
    await cluster.waitUntilReady();
  });

  afterAll(async () => {
    await cluster.destroy();
  });

  it('stops every process on Ctrl-C within 10 s, leaving none behind', async () => {
    const pids = cluster.allReportedPids();
    expect(pids).toHaveLength(4);
    expect(pids.every(isAlive)).toBe(true);
    const started = Date.now();
    expect(await cluster.stop('SIGINT')).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    await waitFor('every service process gone', () => pids.every((pid) => !isAlive(pid)), 3000);
    expect(cluster.output).toContain('cloudstore: stopped');
  });
});

describe('npm start: refusing to start', () => {
  async function runUntilExit(
    overrides: NodeJS.ProcessEnv,
  ): Promise<{ code: number | null; ms: number; cluster: ClusterProcess }> {
    const started = Date.now();
    const cluster = await ClusterProcess.start(overrides);
    const code = await cluster.exited;
    await cluster.destroy();
    return { code, ms: Date.now() - started, cluster };
  }

  it('fails fast with one line naming a bad variable', async () => {
    const { code, cluster } = await runUntilExit({ GRPC_PORT: 'abc' });
    expect(code).not.toBe(0);
    expect(cluster.lines).toEqual([
      expect.stringMatching(/^cloudstore: .*GRPC_PORT must be a port number from 1 to 65535, got "abc"$/),
    ]);
  });

  it('refuses a MASTER_KEY that is not base64 of 32 bytes, without echoing it', async () => {
    const { code, cluster } = await runUntilExit({ MASTER_KEY: 'c2hvcnQ=' });
    expect(code).not.toBe(0);
    expect(cluster.lines).toEqual([
      expect.stringMatching(
        /^cloudstore: .*MASTER_KEY must be base64 of exactly 32 bytes, got 8 characters \(not shown: it is a secret\)$/,
      ),
    ]);
  });

  it('fails within 15 s naming the PostgreSQL URL it tried when nothing listens there', async () => {
    const { code, ms, cluster } = await runUntilExit({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/cloudstore' });
    expect(code).not.toBe(0);
    expect(ms).toBeLessThan(15_000);
    expect(cluster.lines).toEqual([
      expect.stringMatching(
        /^cloudstore: cannot reach PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/cloudstore .*docker compose up -d postgres redis$/,
      ),
    ]);
  });

  it('fails within 15 s naming the Redis URL it tried when Redis is down', async () => {
    const { code, ms, cluster } = await runUntilExit({ REDIS_URL: 'redis://127.0.0.1:1/0' });
    expect(code).not.toBe(0);
    expect(ms).toBeLessThan(15_000);
    expect(cluster.lines).toEqual([
      expect.stringMatching(
        /^cloudstore: cannot reach Redis at redis:\/\/127\.0\.0\.1:1\/0 .*docker compose up -d postgres redis$/,
      ),
    ]);
  });
});
