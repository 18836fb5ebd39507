import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type AuthBenchReport, benchAuth, signInBenchUser, signUpBenchUser, startCodeCatcher } from './auth.bench';
import { BenchCluster } from './bench-cluster';
import { benchConcurrency, type ConcurrencyBenchReport } from './concurrency.bench';
import { type MachineBounds, measureMachineBounds } from './machine-bounds.bench';
import { benchNodeFaults } from './node-faults.bench';
import { benchRepair } from './repair.bench';
import type { BenchSize } from './stats';
import { benchStorage, type StorageBenchReport } from './storage.bench';
import { formatTargetTable, targetRows } from './targets';

const PARTS = ['auth', 'storage', 'concurrency', 'node-faults', 'repair', 'repair-check'] as const;
const CLUSTER_PARTS: readonly Part[] = ['auth', 'storage', 'concurrency', 'node-faults', 'repair'];
/** `--quick`: the parts and size of a run that only proves the harness works (inside `npm test`, under a minute). */
const QUICK = { parts: ['auth', 'storage', 'concurrency'] as Part[], size: { scale: 0.02, minSamples: 3 } };
const ADMIN = { username: 'bench_admin', email: 'bench_admin@example.com', password: 'Bench-Admin-Passw0rd-2026!' };
type Part = (typeof PARTS)[number];

/**
 * npm run bench [-- <part> …] [--scale=N] [--quick] (parts: auth, storage, concurrency, node-faults,
 * repair by default; repair-check): measures what the machine allows (disk, ciphers), starts the real
 * cluster as processes on free ports, measures it from outside (repair-check: the replication
 * check's queries against a seeded database instead), prints every figure against its target
 * and bound, and writes bench/results/bench-<time>.json.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const scale = Number(args.find((a) => a.startsWith('--scale='))?.split('=')[1] ?? '1');
  const size: BenchSize = quick ? QUICK.size : { scale, minSamples: 5 };
  const requested = args.filter((a) => !a.startsWith('--'));
  const parts: Part[] = requested.length
    ? requested.filter((p): p is Part => (PARTS as readonly string[]).includes(p))
    : quick
      ? QUICK.parts
      : [...CLUSTER_PARTS];
  const report: Record<string, unknown> = {
    started_at: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model,
      memory_gib: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    scale: size.scale,
    quick,
  };
  if (parts.includes('repair-check')) {
    process.stdout.write('bench: repair-check…\n');
    report['repair_check'] = await benchRepairCheck(size.scale);
  }
  if (parts.includes('storage')) {
    process.stdout.write('bench: machine bounds…\n');
    // As much per writer as the cluster's 1 GiB transfer, on the disk the nodes use.
    report['bounds'] = await measureMachineBounds(tmpdir(), 1024 * size.scale);
  }
  if (parts.some((p) => CLUSTER_PARTS.includes(p))) await benchCluster(parts, size, report);
  const rows = targetRows({
    auth: report['auth'] as AuthBenchReport | undefined,
    storage: report['storage'] as StorageBenchReport | undefined,
    concurrency: report['concurrency'] as ConcurrencyBenchReport | undefined,
    bounds: report['bounds'] as MachineBounds | undefined,
  });
  report['targets'] = rows;
  const dir = join(process.cwd(), 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n\n${formatTargetTable(rows)}\n\nbench: report written to ${file}\n`);
}

/**
 * The replication check against 1,000,000 chunk rows × scale, seeded into a database of its own:
 * the metadata service's own script (it uses the service's queries), run as a process.
 */
async function benchRepairCheck(scale: number): Promise<unknown> {
  const script = join(process.cwd(), 'dist/apps/metadata/src/replication/repair-check-bench.js');
  const { stdout } = await promisify(execFile)(process.execPath, [script, String(Math.round(1_000_000 * scale))], {
    maxBuffer: 1024 * 1024,
  });
  return JSON.parse(stdout) as unknown;
}

/** The parts measured from outside a real cluster started as processes on free ports. */
async function benchCluster(parts: Part[], size: BenchSize, report: Record<string, unknown>): Promise<void> {
  const basePort = 40_000 + Math.floor(Math.random() * 500) * 20;
  const codes = await startCodeCatcher(basePort + 19);
  const cluster = await BenchCluster.start(basePort, {
    SMTP_URL: `smtp://127.0.0.1:${basePort + 19}`,
    STORAGE_NODES: '4',
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    REPLICATION_CHECK_INTERVAL_SECONDS: '2',
  });
  try {
    if (parts.includes('auth')) {
      process.stdout.write('bench: auth…\n');
      report['auth'] = await benchAuth(cluster, codes, size);
    }
    const { token, userId } = await signUpBenchUser(cluster.httpUrl, codes);
    if (parts.includes('storage')) {
      process.stdout.write('bench: storage…\n');
      report['storage'] = await benchStorage(cluster, token, userId, size);
    }
    if (parts.includes('concurrency')) {
      process.stdout.write('bench: concurrency…\n');
      report['concurrency'] = await benchConcurrency(cluster, token, size);
    }
    if (parts.includes('node-faults')) {
      process.stdout.write('bench: node faults…\n');
      report['node_faults'] = await benchNodeFaults(cluster, token);
    }
    if (parts.includes('repair')) {
      process.stdout.write('bench: repair…\n');
      const adminToken = await signInBenchUser(cluster.httpUrl, codes, ADMIN);
      report['repair'] = await benchRepair(cluster, token, adminToken, size.scale);
    }
  } finally {
    await cluster.stop();
    await codes.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
