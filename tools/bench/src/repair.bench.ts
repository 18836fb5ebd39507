import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from 'pg';
import type { BenchCluster } from './bench-cluster';

export interface RepairBenchReport {
  node_lost: string;
  bytes_rereplicated: number;
  chunks_rereplicated: number;
  seconds_to_full_replication: number;
  mb_per_s: number;
  repair_concurrency: number;
}

async function status(
  base: string,
  adminToken: string,
): Promise<{ under_replicated_chunks: number; jobs: { waiting: number; active: number } }> {
  const res = await fetch(`${base}/v1/admin/cluster`, { headers: { authorization: `Bearer ${adminToken}` } });
  return (await res.json()) as { under_replicated_chunks: number; jobs: { waiting: number; active: number } };
}

/**
 * Re-replication after a node loss: with data on every node, one node is killed and its disk
 * wiped; the time from the kill until no chunk is under-replicated gives the repair rate.
 */
export async function benchRepair(
  cluster: BenchCluster,
  token: string,
  adminToken: string,
  scale: number,
): Promise<RepairBenchReport> {
  const base = cluster.httpUrl;
  const file = randomBytes(16 * 1024 * 1024);
  const files = Math.max(4, Math.round(32 * scale));
  for (let i = 0; i < files; i += 1) {
    file.writeUInt32BE(i, 0);
    const res = await fetch(`${base}/v1/files?filename=repair-${i}.bin`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}` },
      body: file,
    });
    if (res.status !== 201) throw new Error(`upload for the repair bench: ${res.status}`);
  }
  const victim = 'node-1';
  const pg = new Client({ connectionString: cluster.env['DATABASE_URL'] });
  await pg.connect();
  const lost = (
    await pg.query<{ n: string; bytes: string }>(
      `SELECT count(*) AS n, coalesce(sum(c.size_bytes), 0) AS bytes FROM metadata.chunk_replicas r JOIN metadata.chunks c ON c.id = r.chunk_id WHERE r.node_id = $1`,
      [victim],
    )
  ).rows[0];
  await pg.end();
  const started = performance.now();
  cluster.cluster.process(victim).kill('SIGKILL');
  await rm(join(cluster.env['DATA_DIR'] ?? '', 'nodes', victim), { recursive: true, force: true });
  // Until the node is back and its loss known, the cluster may still look healthy: wait for the damage first.
  let sawDamage = false;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const s = await status(base, adminToken);
    if (s.under_replicated_chunks > 0 || s.jobs.active > 0 || s.jobs.waiting > 0) sawDamage = true;
    if (sawDamage && s.under_replicated_chunks === 0 && s.jobs.active === 0 && s.jobs.waiting === 0) break;
    if (performance.now() - started > 600_000) throw new Error('re-replication did not finish within 10 minutes');
  }
  const seconds = (performance.now() - started) / 1000;
  const bytes = Number(lost?.bytes ?? 0);
  return {
    node_lost: victim,
    bytes_rereplicated: bytes,
    chunks_rereplicated: Number(lost?.n ?? 0),
    seconds_to_full_replication: Math.round(seconds * 100) / 100,
    mb_per_s: Math.round((bytes / 1e6 / seconds) * 10) / 10,
    repair_concurrency: Number(cluster.env['REPAIR_CONCURRENCY'] ?? 4),
  };
}
