import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { findFreePortRange, waitFor } from '@cloudstore/testing';
import type { Client } from 'pg';
import type { ClusterProcess } from './support/cluster-process';
import { HealingCluster } from './support/healing-cluster';

const STOP_GUARD = join(__dirname, '../../dist/apps/storage-node/src/stop-guard.js');
const NODES = ['node-0', 'node-1', 'node-2', 'node-3'];
/** FAST_HEALING's: a stopped node is down this long after its last heartbeat. */
const DOWN_AFTER_SECONDS = 6;

interface GuardRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/**
 * The preStop hook of a storage-node pod, for real: dist/apps/storage-node/src/stop-guard.js run
 * as node `nodeId` with the node's environment (its certificate from the cluster's dev PKI).
 */
describe('stop guard: a storage node waits to stop while it holds the only healthy copy of a chunk (4 nodes, factor 3)', () => {
  let env: HealingCluster;
  let cluster: ClusterProcess;
  let pg: Client;

  beforeAll(async () => {
    // Checks only when asked (the guard asks for one): the repair seen below is the guard's doing.
    env = await HealingCluster.start({ REPLICATION_CHECK_INTERVAL_SECONDS: '3600' }, 4);
    ({ cluster, pg } = env);
    for (let i = 0; i < 8; i += 1) await env.upload(`kept-${i}.bin`, randomBytes(100_000 + i));
  });

  afterAll(() => env?.close());

  function signalNodes(nodeIds: readonly string[], signal: NodeJS.Signals): void {
    for (const nodeId of nodeIds) process.kill(cluster.pidOf(nodeId) as number, signal);
  }

  async function liveNodes(): Promise<string[]> {
    const { rows } = await pg.query<{ node_id: string }>(
      `SELECT node_id FROM metadata.storage_nodes WHERE last_heartbeat_at > now() - make_interval(secs => $1) ORDER BY node_id`,
      [DOWN_AFTER_SECONDS],
    );
    return rows.map((r) => r.node_id);
  }

  async function onlyLive(expected: string[]): Promise<void> {
    await waitFor(`live nodes ${expected.join(', ')}`, async () => (await liveNodes()).join() === expected.join(), 30_000, 200);
  }

  // Each test starts with every node running and live, whatever ran before it.
  beforeEach(async () => {
    signalNodes(NODES, 'SIGCONT');
    await onlyLive(NODES);
  });

  function runGuard(nodeId: string, args: string[], overrides: NodeJS.ProcessEnv = {}): Promise<GuardRun> {
    const started = Date.now();
    const child = spawn(process.execPath, [STOP_GUARD, ...args], {
      env: {
        PATH: process.env['PATH'],
        LOG_LEVEL: 'warn',
        DATA_DIR: cluster.dataDir,
        METADATA_PORT: String(cluster.ports.metadata),
        STORAGE_NODE_ID: nodeId,
        ...overrides,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    return new Promise((resolve) =>
      child.once('close', (code) => resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 })),
    );
  }

  /** Chunks of files with an ok replica on the node. */
  async function chunksOn(nodeId: string): Promise<string[]> {
    const { rows } = await pg.query<{ chunk_id: string }>(
      `SELECT r.chunk_id FROM metadata.chunk_replicas r JOIN metadata.chunks c ON c.id = r.chunk_id AND c.file_id IS NOT NULL
       WHERE r.node_id = $1 AND r.state = 'ok' ORDER BY r.chunk_id`,
      [nodeId],
    );
    return rows.map((r) => r.chunk_id);
  }

  async function holders(chunkId: string): Promise<string[]> {
    const { rows } = await pg.query<{ node_id: string }>(
      `SELECT node_id FROM metadata.chunk_replicas WHERE chunk_id = $1 AND state = 'ok' ORDER BY node_id`,
      [chunkId],
    );
    return rows.map((r) => r.node_id);
  }

  it('lets a node stop at once when every chunk it holds has healthy copies elsewhere', async () => {
    expect((await chunksOn('node-0')).length).toBeGreaterThan(0);
    const run = await runGuard('node-0', []);
    expect(run).toMatchObject({
      code: 0,
      stdout: 'stop-guard: every chunk node-0 holds has a healthy copy elsewhere: it may stop\n',
      stderr: '',
    });
    expect(run.seconds).toBeLessThan(10);
  });

  it('keeps a node that alone holds chunks waiting, and gives up after --max-wait-seconds with one line', async () => {
    const others = NODES.filter((n) => n !== 'node-0');
    const sole = (await chunksOn('node-0')).length;
    signalNodes(others, 'SIGSTOP');
    try {
      await onlyLive(['node-0']);
      const run = await runGuard('node-0', ['--max-wait-seconds', '3']);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`node-0 holds the only healthy copy of ${sole} chunk`);
      expect(run.stderr).toBe(
        `stop-guard: node-0 still holds the only healthy copy of ${sole} chunk${sole === 1 ? '' : 's'} after 3 s: ` +
          'they are unreadable until it is back (to remove a node, drain it first)\n',
      );
      expect(run.seconds).toBeGreaterThanOrEqual(3);
    } finally {
      signalNodes(others, 'SIGCONT');
    }
  });

  it('has the repair of its sole copies started, and lets the node stop once they are copied', async () => {
    // A chunk at its factor: stopping its two other holders leaves node-0 its only healthy copy.
    let chunkId: string | undefined;
    for (const id of await chunksOn('node-0')) if (!chunkId && (await holders(id)).length === 3) chunkId = id;
    const stopped = (await holders(chunkId as string)).filter((n) => n !== 'node-0');
    expect(stopped).toHaveLength(2);
    const spare = NODES.find((n) => n !== 'node-0' && !stopped.includes(n)) as string;
    signalNodes(stopped, 'SIGSTOP');
    try {
      await onlyLive(['node-0', spare].sort());
      const run = await runGuard('node-0', ['--max-wait-seconds', '120']);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(/^stop-guard: node-0 holds the only healthy copy of \d+ chunks?: waiting for their repair\n/);
      expect(run.stdout).toMatch(/it may stop\n$/);
      expect(await holders(chunkId as string)).toContain(spare);
    } finally {
      signalNodes(stopped, 'SIGCONT');
    }
  });

  it('lets a node ask only about itself: its certificate names it', async () => {
    const run = await runGuard('node-1', ['--max-wait-seconds', '30'], {
      INTERNAL_CERT_FILE: join(cluster.dataDir, 'pki', 'node-0.crt'),
      INTERNAL_KEY_FILE: join(cluster.dataDir, 'pki', 'node-0.key'),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^stop-guard: the metadata service refused to say what node-1 alone holds: .*\n$/);
    expect(run.seconds).toBeLessThan(10);
  });

  it('gives up on a metadata service that does not answer, with one line', async () => {
    const closed = await findFreePortRange(1);
    const run = await runGuard('node-0', ['--max-wait-seconds', '2'], { METADATA_PORT: String(closed) });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^stop-guard: the metadata service did not answer in 2 s \(.*\): node-0 stops without knowing/);
  });
});
