import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { findFreePortRange, waitFor } from '@cloudstore/testing';
import type { Client } from 'pg';
import { signUp, type TestUser } from './support/accounts';
import type { ClusterProcess } from './support/cluster-process';
import { restUpload, sha256 } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const CHUNK = 256 * 1024;

describe('a storage node that joins', () => {
  let env: TestCluster;
  let cluster: ClusterProcess;
  let user: TestUser;
  let pg: Client;
  let joiner: ChildProcess | undefined;
  const files = new Map<string, Buffer>();

  beforeAll(async () => {
    env = await TestCluster.start({
      CHUNK_SIZE_BYTES: String(CHUNK),
      HEARTBEAT_INTERVAL_SECONDS: '1',
      REBALANCE_INTERVAL_SECONDS: '2',
      REBALANCE_BYTES_PER_SECOND: String(2 * 1024 * 1024),
    });
    ({ cluster, pg } = env);
    user = await signUp(env.rest, env.smtp, 'joiner');
    for (let i = 0; i < 10; i += 1) await upload(`before-${i}.bin`, randomBytes(8 * CHUNK));
  });

  afterAll(async () => {
    joiner?.kill('SIGTERM');
    await env?.close();
  });

  async function upload(name: string, data: Buffer): Promise<string> {
    const fileId = await restUpload(cluster.httpUrl, user.token, name, data);
    files.set(fileId, data);
    return fileId;
  }

  async function replicasOn(nodeId: string): Promise<number> {
    const rows = await pg.query<{ n: string }>('SELECT count(*) AS n FROM metadata.chunk_replicas WHERE node_id = $1', [nodeId]);
    return Number(rows.rows[0]?.n);
  }

  it('receives new chunks at once, and existing replicas move to it a few at a time', async () => {
    const port = await findFreePortRange(1);
    joiner = spawn(process.execPath, [join(__dirname, '../../dist/apps/storage-node/src/main.js')], {
      env: {
        ...cluster.env,
        STORAGE_NODE_ID: 'node-3',
        STORAGE_NODE_PORT: String(port),
        STORAGE_NODE_ADDRESS: `127.0.0.1:${port}`,
        METRICS_PORT: '0',
      },
      stdio: 'ignore',
    });
    await waitFor(
      'node-3 registered',
      async () => {
        const rows = await pg.query('SELECT 1 FROM metadata.storage_nodes WHERE node_id = $1', ['node-3']);
        return (rows.rowCount ?? 0) > 0;
      },
      30_000,
    );

    const fresh = await upload('after-join.bin', randomBytes(20 * CHUNK));
    const placed = await pg.query<{ node_id: string }>(
      'SELECT DISTINCT r.node_id FROM metadata.chunk_replicas r JOIN metadata.chunks c ON c.id = r.chunk_id WHERE c.file_id = $1',
      [fresh],
    );
    expect(placed.rows.map((r) => r.node_id)).toContain('node-3');

    const total = Number((await pg.query<{ n: string }>('SELECT count(*) AS n FROM metadata.chunk_replicas')).rows[0]?.n);
    const samples: number[] = [];
    await waitFor(
      'node-3 holding about a quarter of the replicas',
      async () => {
        samples.push(await replicasOn('node-3'));
        return (samples.at(-1) ?? 0) >= total * 0.15;
      },
      90_000,
      1000,
    );
    // Rate limited: the share grew over several runs, not in one burst.
    expect(new Set(samples).size).toBeGreaterThan(2);
    const counts = await pg.query<{ n: string }>('SELECT count(*) AS n FROM metadata.chunk_replicas GROUP BY chunk_id');
    expect(new Set(counts.rows.map((r) => r.n))).toEqual(new Set(['3']));
    for (const [fileId, data] of files) {
      const res = await fetch(`${cluster.httpUrl}/v1/files/${fileId}/content`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(data));
    }
  });
});
