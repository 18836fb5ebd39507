import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { BenchCluster } from './bench-cluster';
import { type LatencySummary, summarize, timeSequential } from './stats';

const RUNS = 20;
const FILE_BYTES = 10 * 1024 * 1024;

export interface NodeFaultsBenchReport {
  file_bytes: number;
  runs: number;
  node: string;
  healthy: LatencySummary;
  one_node_frozen: LatencySummary;
  one_node_killed: LatencySummary;
  /** What a frozen (SIGSTOP) node adds to a download: its p50 and its worst run against the healthy p50. */
  frozen_added_p50_ms: number;
  frozen_added_max_ms: number;
  killed_added_p50_ms: number;
}

/**
 * Downloads of one 10 MiB file, RUNS times each: with every node healthy, with the node that
 * holds most of it frozen (the first run after the freeze included: the gateway learns of it
 * from that run), and with that node killed.
 */
export async function benchNodeFaults(cluster: BenchCluster, token: string): Promise<NodeFaultsBenchReport> {
  const base = cluster.httpUrl;
  const res = await fetch(`${base}/v1/files?filename=node-faults.bin`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}` },
    body: randomBytes(FILE_BYTES),
  });
  if (res.status !== 201) throw new Error(`upload for the node-faults bench: ${res.status}`);
  const fileId = ((await res.json()) as { file_id: string }).file_id;
  const download = async () => {
    const got = await fetch(`${base}/v1/files/${fileId}/content`, { headers: { authorization: `Bearer ${token}` } });
    const bytes = (await got.arrayBuffer()).byteLength;
    if (got.status !== 200 || bytes !== FILE_BYTES) throw new Error(`download: ${got.status}, ${bytes} bytes`);
  };
  const node = await busiestNode(cluster, fileId);
  const healthy = await timeSequential(RUNS, download);
  const victim = cluster.cluster.process(node);
  victim.kill('SIGSTOP');
  let frozen: number[];
  try {
    frozen = await timeSequential(RUNS, download);
  } finally {
    victim.kill('SIGCONT');
  }
  victim.kill('SIGKILL');
  const killed = await timeSequential(RUNS, download);
  const [h, f, k] = [summarize(healthy), summarize(frozen), summarize(killed)];
  return {
    file_bytes: FILE_BYTES,
    runs: RUNS,
    node,
    healthy: h,
    one_node_frozen: f,
    one_node_killed: k,
    frozen_added_p50_ms: Math.round(f.p50_ms - h.p50_ms),
    frozen_added_max_ms: Math.round(f.max_ms - h.p50_ms),
    killed_added_p50_ms: Math.round(k.p50_ms - h.p50_ms),
  };
}

async function busiestNode(cluster: BenchCluster, fileId: string): Promise<string> {
  const pg = new Client({ connectionString: cluster.env['DATABASE_URL'] });
  await pg.connect();
  try {
    const rows = await pg.query<{ node_id: string }>(
      `SELECT r.node_id FROM metadata.chunk_replicas r JOIN metadata.chunks c ON c.id = r.chunk_id
       WHERE c.file_id = $1 GROUP BY r.node_id ORDER BY count(*) DESC, r.node_id LIMIT 1`,
      [fileId],
    );
    const nodeId = rows.rows[0]?.node_id;
    if (!nodeId) throw new Error('the bench file has no replica');
    return nodeId;
  } finally {
    await pg.end();
  }
}
