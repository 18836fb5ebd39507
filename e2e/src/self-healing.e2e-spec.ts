import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { waitFor } from '@cloudstore/testing';
import type { Client } from 'pg';
import type { ClusterProcess } from './support/cluster-process';
import { chunkFilesOnDisk, sha256 } from './support/file-transfers';
import { HealingCluster } from './support/healing-cluster';

const CHUNK = 1024 * 1024;

describe('self-healing storage: 4 nodes, replication factor 3, real processes', () => {
  let env: HealingCluster;
  let cluster: ClusterProcess;
  let pg: Client;

  beforeAll(async () => {
    env = await HealingCluster.start(
      {
        CHUNK_SIZE_BYTES: String(CHUNK),
        SCRUB_INTERVAL_SECONDS: '4',
        CHUNK_READ_TIMEOUT_MS: '2000',
        CHUNK_WRITE_TIMEOUT_MS: '5000',
      },
      4,
    );
    ({ cluster, pg } = env);
    for (let i = 0; i < 12; i += 1) await env.upload(`file-${i}.bin`, randomBytes(Math.floor(CHUNK * (0.5 + (i % 4)))));
  });

  afterAll(() => env?.close());

  /** Every node that is not drained is up (a drained one stays out: (c) may have run before). */
  async function everyNodeUp(): Promise<void> {
    await waitFor(
      'every node up or drained',
      async () => {
        const { nodes } = await env.status();
        return nodes.length === 4 && nodes.every((n) => n.status === 'up' || n.status === 'drained');
      },
      60_000,
      500,
    );
  }

  /** Nodes a test may stop, kill or corrupt: those not drained, in order. */
  async function liveNodes(): Promise<string[]> {
    return (await env.status()).nodes.filter((n) => n.status === 'up').map((n) => n.node_id);
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
    await env.fullyReplicated();
  });

  it('starts with three replicas of every chunk', async () => {
    const replicas = await pg.query<{ n: string }>(
      `SELECT count(*) AS n FROM metadata.chunk_replicas r JOIN metadata.chunks c ON c.id = r.chunk_id GROUP BY c.id`,
    );
    expect(new Set(replicas.rows.map((r) => r.n))).toEqual(new Set(['3']));
    expect((await env.status()).under_replicated_chunks).toBe(0);
  });

  it('(a) survives a killed node whose disk is wiped: reads go on, uploads go on, the lost replicas are rebuilt', async () => {
    const lost = (await chunkFilesOnDisk(cluster.dataDir)).filter((p) => p.includes('/nodes/node-1/')).length;
    expect(lost).toBeGreaterThan(0);
    await env.killAndWipe('node-1');
    expect(await env.unreadableFiles()).toEqual([]);
    await env.upload('during-loss.bin', randomBytes(2 * CHUNK + 7));
    await env.newDiskRegistered('node-1');
    const healed = await env.fullyReplicated();
    expect(healed.nodes.find((n) => n.node_id === 'node-1')?.status).toBe('up');
    expect(await env.unreadableFiles()).toEqual([]);
  });

  it('(a) holds three real copies: any two nodes stopped, every file still reads', async () => {
    const live = await liveNodes();
    expect(live.length).toBeGreaterThanOrEqual(3);
    const [first, second] = [live[0], live.at(-1)].map((name) => cluster.pidOf(name as string) as number);
    process.kill(first, 'SIGSTOP');
    process.kill(second, 'SIGSTOP');
    try {
      expect(await env.unreadableFiles()).toEqual([]);
    } finally {
      process.kill(first, 'SIGCONT');
      process.kill(second, 'SIGCONT');
    }
    await everyNodeUp();
    await env.fullyReplicated();
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
    const some = [...env.files.keys()].slice(0, Math.floor(env.files.size / 2));
    for (const fileId of some) {
      const res = await fetch(`${cluster.httpUrl}/v1/files/${fileId}/content`, {
        headers: { authorization: `Bearer ${env.user.token}` },
      });
      expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(env.files.get(fileId) as Buffer));
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
    await env.fullyReplicated();
    expect(await env.unreadableFiles()).toEqual([]);
  });

  it('(d) finishes a repair across a restart of Redis and of every service', async () => {
    // The restarts come before the loss can be repaired: node-0 comes back on its empty disk meanwhile.
    await env.killAndWipe('node-0');
    await env.redis.restart();
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
    await env.newDiskRegistered('node-0');
    await env.fullyReplicated();
    expect(await env.unreadableFiles()).toEqual([]);
  });

  it('(c) drains a node: it ends with no chunk, and every file still reads', async () => {
    const drain = await env.rest.post(`/v1/admin/nodes/node-3/drain`, {}, env.admin.token);
    expect([drain.status, drain.body['status']]).toEqual([202, 'draining']);
    const drained = await waitFor(
      'node-3 drained',
      async () => {
        const s = await env.status();
        const node = s.nodes.find((n) => n.node_id === 'node-3');
        return node?.status === 'drained' && node.chunk_count === 0 ? s : undefined;
      },
      120_000,
      1000,
    );
    expect(drained.under_replicated_chunks).toBe(0);
    expect((await chunkFilesOnDisk(cluster.dataDir)).filter((p) => p.includes('/nodes/node-3/'))).toEqual([]);
    expect(await env.unreadableFiles()).toEqual([]);
    const after = await env.upload('after-drain.bin', randomBytes(CHUNK + 1));
    const placed = await pg.query<{ node_id: string }>(
      `SELECT DISTINCT r.node_id FROM metadata.chunk_replicas r JOIN metadata.chunks c ON c.id = r.chunk_id WHERE c.file_id = $1`,
      [after],
    );
    expect(placed.rows.map((r) => r.node_id)).not.toContain('node-3');
  });

  it('reports the cluster to admins only, in JSON and Prometheus', async () => {
    const s = await env.status();
    const drained = s.nodes.filter((n) => n.status === 'drained').length;
    expect(s.nodes.map((n) => n.node_id)).toEqual(['node-0', 'node-1', 'node-2', 'node-3']);
    expect(s.jobs).toMatchObject({
      waiting: expect.any(Number),
      active: expect.any(Number),
      failed: expect.any(Number),
      completed: expect.any(Number),
    });
    expect((await env.rest.get('/v1/admin/cluster', env.user.token)).body['code']).toBe('PERMISSION_DENIED');
    const metrics = await (await fetch(`http://127.0.0.1:${cluster.ports.metadata + 1000}/metrics`)).text();
    expect(metrics).toMatch(/cloudstore_under_replicated_chunks\{[^}]*\} 0/);
    expect(metrics).toMatch(new RegExp(`cloudstore_storage_nodes\\{[^}]*status="up"[^}]*\\} ${4 - drained}\\b`));
    expect(metrics).toMatch(new RegExp(`cloudstore_storage_nodes\\{[^}]*status="drained"[^}]*\\} ${drained}\\b`));
  });
});
