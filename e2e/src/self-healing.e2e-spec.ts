import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { waitFor } from '@cloudstore/testing';
import { Client } from 'pg';
import { RestClient } from './support/api-clients';
import { signInAs, signUp, type TestUser } from './support/accounts';
import { ClusterProcess } from './support/cluster-process';
import { chunkFilesOnDisk, restUpload, sha256 } from './support/file-transfers';
import { RedisServer } from './support/redis-server';
import { SmtpSink } from './support/smtp-sink';

const CHUNK = 1024 * 1024;
const ADMIN = { username: 'heal_admin', email: 'heal_admin@example.com', password: 'Admin-Passw0rd-2026!' };

interface ClusterStatus {
  nodes: { node_id: string; status: string; chunk_count: number }[];
  under_replicated_chunks: number;
  jobs: { waiting: number; active: number; failed: number; completed: number };
}

describe('self-healing storage: 4 nodes, replication factor 3, real processes', () => {
  let smtp: SmtpSink;
  let redis: RedisServer;
  let cluster: ClusterProcess;
  let rest: RestClient;
  let admin: TestUser;
  let user: TestUser;
  let pg: Client;
  const files = new Map<string, Buffer>();

  beforeAll(async () => {
    smtp = await SmtpSink.start();
    redis = await RedisServer.start();
    cluster = await ClusterProcess.start(
      {
        SMTP_URL: smtp.url,
        REDIS_URL: redis.url,
        CHUNK_SIZE_BYTES: String(CHUNK),
        NODE_DOWN_AFTER_SECONDS: '6',
        HEARTBEAT_INTERVAL_SECONDS: '1',
        REPLICATION_CHECK_INTERVAL_SECONDS: '2',
        SCRUB_INTERVAL_SECONDS: '4',
        REBALANCE_INTERVAL_SECONDS: '0',
        CHUNK_READ_TIMEOUT_MS: '2000',
        CHUNK_WRITE_TIMEOUT_MS: '5000',
        ADMIN_USERNAME: ADMIN.username,
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
      },
      4,
    );
    await cluster.waitUntilReady();
    rest = new RestClient(cluster.httpUrl);
    admin = await signInAs(rest, smtp, ADMIN);
    user = await signUp(rest, smtp, 'heal');
    pg = new Client({ connectionString: String(cluster.env['DATABASE_URL']) });
    await pg.connect();
    for (let i = 0; i < 12; i += 1) await upload(`file-${i}.bin`, randomBytes(Math.floor(CHUNK * (0.5 + (i % 4)))));
  });

  afterAll(async () => {
    await pg?.end();
    await cluster?.destroy();
    await redis?.destroy();
    await smtp?.close();
  });

  async function upload(name: string, data: Buffer): Promise<string> {
    const fileId = await restUpload(cluster.httpUrl, user.token, name, data);
    files.set(fileId, data);
    return fileId;
  }

  async function expectEveryFileIdentical(): Promise<void> {
    for (const [fileId, data] of files) {
      const res = await fetch(`${cluster.httpUrl}/v1/files/${fileId}/content`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      const back = Buffer.from(await res.arrayBuffer());
      expect({ fileId, status: res.status, sha: sha256(back) }).toEqual({ fileId, status: 200, sha: sha256(data) });
    }
  }

  async function status(): Promise<ClusterStatus> {
    return (await rest.get<ClusterStatus>('/v1/admin/cluster', admin.token)).body;
  }

  async function fullyReplicated(timeoutMs = 120_000): Promise<ClusterStatus> {
    return waitFor(
      'no under-replicated chunk',
      async () => {
        const s = await status();
        return s.under_replicated_chunks === 0 && s.jobs.waiting === 0 && s.jobs.active === 0 ? s : undefined;
      },
      timeoutMs,
      500,
    );
  }

  /** Every node that is not drained is up (a drained one stays out: (c) may have run before). */
  async function everyNodeUp(): Promise<void> {
    await waitFor(
      'every node up or drained',
      async () => {
        const { nodes } = await status();
        return nodes.length === 4 && nodes.every((n) => n.status === 'up' || n.status === 'drained');
      },
      60_000,
      500,
    );
  }

  /** Nodes a test may stop, kill or corrupt: those not drained, in order. */
  async function liveNodes(): Promise<string[]> {
    return (await status()).nodes.filter((n) => n.status === 'up').map((n) => n.node_id);
  }

  /** Kills a node and wipes its disk; the cluster's supervisor starts it again, on an empty one. */
  async function killAndWipe(nodeId: string): Promise<void> {
    process.kill(cluster.pidOf(nodeId) as number, 'SIGKILL');
    await rm(join(cluster.dataDir, 'nodes', nodeId), { recursive: true, force: true });
  }

  /**
   * Until a wiped node is back, its replicas count for as long as its heartbeats would; once the
   * metadata knows its new disk, they do not.
   */
  async function newDiskRegistered(nodeId: string): Promise<void> {
    await waitFor(
      `${nodeId} registered with its new disk`,
      async () => {
        const diskId = await readFile(join(cluster.dataDir, 'nodes', nodeId, 'disk-id'), 'utf8').catch(() => undefined);
        const row = await pg.query<{ disk_id: string }>('SELECT disk_id FROM metadata.storage_nodes WHERE node_id = $1', [
          nodeId,
        ]);
        return diskId !== undefined && row.rows[0]?.disk_id === diskId.trim();
      },
      60_000,
      200,
    );
  }

  /** Every chunk file on a node matches the SHA-256 the metadata recorded for it. */
  async function chunkFilesOf(nodeId: string): Promise<{ path: string; good: boolean }[]> {
    const paths = (await chunkFilesOnDisk(cluster.dataDir)).filter((p) => p.includes(`/nodes/${nodeId}/`));
    const result = [];
    for (const path of paths) {
      const row = await pg.query<{ sha256: string }>('SELECT sha256 FROM metadata.chunks WHERE id = $1', [basename(path)]);
      result.push({
        path,
        good:
          createHash('sha256')
            .update(await readFile(path))
            .digest('hex') === row.rows[0]?.sha256,
      });
    }
    return result;
  }

  // Each test starts from a settled cluster, whatever ran before it and however it ended: nothing
  // frozen, every node up (or drained), every chunk at its target and no repair under way.
  beforeEach(async () => {
    for (const name of ['node-0', 'node-1', 'node-2', 'node-3']) {
      const pid = cluster.pidOf(name);
      try {
        if (pid !== undefined) process.kill(pid, 'SIGCONT');
      } catch {
        // A node being restarted has no process under that pid: nothing to resume.
      }
    }
    await everyNodeUp();
    await fullyReplicated();
  });

  it('starts with three replicas of every chunk', async () => {
    const replicas = await pg.query<{ n: string }>(
      `SELECT count(*) AS n FROM metadata.chunk_replicas r JOIN metadata.chunks c ON c.id = r.chunk_id GROUP BY c.id`,
    );
    expect(new Set(replicas.rows.map((r) => r.n))).toEqual(new Set(['3']));
    expect((await status()).under_replicated_chunks).toBe(0);
  });

  it('(a) survives a killed node whose disk is wiped: reads go on, uploads go on, the lost replicas are rebuilt', async () => {
    const lost = (await chunkFilesOnDisk(cluster.dataDir)).filter((p) => p.includes('/nodes/node-1/')).length;
    expect(lost).toBeGreaterThan(0);
    await killAndWipe('node-1');
    await expectEveryFileIdentical();
    await upload('during-loss.bin', randomBytes(2 * CHUNK + 7));
    await newDiskRegistered('node-1');
    const healed = await fullyReplicated();
    expect(healed.nodes.find((n) => n.node_id === 'node-1')?.status).toBe('up');
    await expectEveryFileIdentical();
  });

  it('(a) holds three real copies: any two nodes stopped, every file still reads', async () => {
    const live = await liveNodes();
    expect(live.length).toBeGreaterThanOrEqual(3);
    const [first, second] = [live[0], live.at(-1)].map((name) => cluster.pidOf(name as string) as number);
    process.kill(first, 'SIGSTOP');
    process.kill(second, 'SIGSTOP');
    try {
      await expectEveryFileIdentical();
    } finally {
      process.kill(first, 'SIGCONT');
      process.kill(second, 'SIGCONT');
    }
    await everyNodeUp();
    await fullyReplicated();
  });

  it('(b) never serves flipped bytes, and the scrubber rewrites the corrupt replicas good', async () => {
    const before = await chunkFilesOf('node-2');
    expect(before.length).toBeGreaterThan(0);
    for (const { path } of before) {
      const bytes = await readFile(path);
      bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] ?? 0) ^ 0x5a;
      await writeFile(path, bytes);
    }
    // Half the files are read now (their corrupt replicas are reported by the reads); the scrubber finds the rest.
    const some = [...files.keys()].slice(0, Math.floor(files.size / 2));
    for (const fileId of some) {
      const res = await fetch(`${cluster.httpUrl}/v1/files/${fileId}/content`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(files.get(fileId) as Buffer));
    }
    await waitFor(
      'every replica on node-2 rewritten good',
      async () => {
        const after = await chunkFilesOf('node-2');
        return after.length >= before.length && after.every((f) => f.good);
      },
      120_000,
      1000,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${cluster.ports.metadata + 1000}/metrics`)).text();
    expect(
      Number(/cloudstore_scrubbed_replicas_total\{[^}]*result="corrupt"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0),
    ).toBeGreaterThan(0);
    await fullyReplicated();
    await expectEveryFileIdentical();
  });

  it('(d) finishes a repair across a restart of Redis and of every service', async () => {
    // The restarts come before the loss can be repaired: node-0 comes back on its empty disk meanwhile.
    await killAndWipe('node-0');
    await redis.restart();
    for (const name of ['metadata', 'auth', 'gateway', 'node-1', 'node-2', 'node-3']) {
      const pid = cluster.pidOf(name) as number;
      process.kill(pid, 'SIGTERM');
      await waitFor(`${name} restarted`, () => cluster.pidOf(name) !== pid, 30_000);
    }
    await waitFor(
      'gateway ready',
      async () => (await fetch(`${cluster.httpUrl}/readyz`).catch(() => undefined))?.status === 200,
      60_000,
      500,
    );
    await everyNodeUp();
    await newDiskRegistered('node-0');
    await fullyReplicated();
    await expectEveryFileIdentical();
  });

  it('(c) drains a node: it ends with no chunk, and every file still reads', async () => {
    const drain = await rest.post(`/v1/admin/nodes/node-3/drain`, {}, admin.token);
    expect([drain.status, drain.body['status']]).toEqual([202, 'draining']);
    const drained = await waitFor(
      'node-3 drained',
      async () => {
        const s = await status();
        const node = s.nodes.find((n) => n.node_id === 'node-3');
        return node?.status === 'drained' && node.chunk_count === 0 ? s : undefined;
      },
      120_000,
      1000,
    );
    expect(drained.under_replicated_chunks).toBe(0);
    expect((await chunkFilesOnDisk(cluster.dataDir)).filter((p) => p.includes('/nodes/node-3/'))).toEqual([]);
    await expectEveryFileIdentical();
    const after = await upload('after-drain.bin', randomBytes(CHUNK + 1));
    const placed = await pg.query<{ node_id: string }>(
      `SELECT DISTINCT r.node_id FROM metadata.chunk_replicas r JOIN metadata.chunks c ON c.id = r.chunk_id WHERE c.file_id = $1`,
      [after],
    );
    expect(placed.rows.map((r) => r.node_id)).not.toContain('node-3');
  });

  it('reports the cluster to admins only, in JSON and Prometheus', async () => {
    const s = await status();
    const drained = s.nodes.filter((n) => n.status === 'drained').length;
    expect(s.nodes.map((n) => n.node_id)).toEqual(['node-0', 'node-1', 'node-2', 'node-3']);
    expect(s.jobs).toMatchObject({
      waiting: expect.any(Number),
      active: expect.any(Number),
      failed: expect.any(Number),
      completed: expect.any(Number),
    });
    expect((await rest.get('/v1/admin/cluster', user.token)).body['code']).toBe('PERMISSION_DENIED');
    const metrics = await (await fetch(`http://127.0.0.1:${cluster.ports.metadata + 1000}/metrics`)).text();
    expect(metrics).toMatch(/cloudstore_under_replicated_chunks\{[^}]*\} 0/);
    expect(metrics).toMatch(new RegExp(`cloudstore_storage_nodes\\{[^}]*status="up"[^}]*\\} ${4 - drained}\\b`));
    expect(metrics).toMatch(new RegExp(`cloudstore_storage_nodes\\{[^}]*status="drained"[^}]*\\} ${drained}\\b`));
  });
});
