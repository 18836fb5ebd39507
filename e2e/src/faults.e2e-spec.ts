import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { waitFor } from '@cloudstore/testing';
import { type Client } from 'pg';
import { type RestClient } from './support/api-clients';
import { type TestUser } from './support/accounts';
import { type ClusterProcess, isAlive } from './support/cluster-process';
import { chunkFilesOnDisk, sha256 } from './support/file-transfers';
import { HealingCluster } from './support/healing-cluster';

/**
 * The fault suite: what the cluster promises while nodes freeze, die or lose their disks, and
 * Redis or the metadata service restart. Each scenario checks every byte by SHA-256 and ends
 * with the cluster settled: every chunk at its factor, no orphan chunk on any disk, no
 * reservation or open upload left, the quota exactly what the files use.
 *
 * Read and write deadlines are set far beyond the test's time, so only hedged reads, circuit
 * breakers and write quorums can get a scenario through. `npm run test:faults -- --repeat N`
 * runs every scenario N times (FAULT_REPEAT; 3 rounds kill every pair of nodes); `npm test` runs
 * them once. A repair across a restart of Redis is self-healing's (d).
 */
const ROUNDS = Math.max(1, Number(process.env['FAULT_REPEAT'] ?? 1));
const CHUNK = 1024 * 1024;
const NODES = ['node-0', 'node-1', 'node-2'];
const PAIRS = [
  ['node-0', 'node-1'],
  ['node-0', 'node-2'],
  ['node-1', 'node-2'],
] as const;
describe('fault suite: 3 nodes, replication factor 3, write quorum 2, real processes', () => {
  let env: HealingCluster;
  let cluster: ClusterProcess;
  let rest: RestClient;
  let user: TestUser;
  let pg: Client;
  const stopped = new Set<number>();

  beforeAll(async () => {
    env = await HealingCluster.start(
      {
        CHUNK_SIZE_BYTES: String(CHUNK),
        SCRUB_INTERVAL_SECONDS: '3600',
        UPLOAD_IDLE_TIMEOUT_SECONDS: '5',
        CHUNK_READ_TIMEOUT_MS: '600000',
        CHUNK_WRITE_TIMEOUT_MS: '600000',
        WRITE_QUORUM: '2',
      },
      NODES.length,
    );
    ({ cluster, rest, user, pg } = env);
    for (let i = 0; i < 6; i += 1) await env.upload(`seed-${i}.bin`, randomBytes(Math.floor(CHUNK * (0.5 + (i % 4)))));
  });

  afterEach(async () => {
    // A failed scenario must not leave frozen processes behind for the next one.
    for (const pid of stopped) signal(pid, 'SIGCONT');
    stopped.clear();
    await settled();
  });

  afterAll(() => env?.close());

  function signal(pid: number, name: NodeJS.Signals): void {
    try {
      process.kill(pid, name);
    } catch {
      // gone already: the supervisor restarts it
    }
  }

  function freeze(name: string): number {
    const pid = cluster.pidOf(name) as number;
    process.kill(pid, 'SIGSTOP');
    stopped.add(pid);
    return pid;
  }

  function thaw(pid: number): void {
    signal(pid, 'SIGCONT');
    stopped.delete(pid);
  }

  /**
   * A request body that arrives in 256 KiB pieces and, once `pauseAt` bytes are out, waits for
   * `midway` (the fault) before sending the rest: chunked, so the size is not declared.
   */
  function streamed(data: Buffer, pauseAt: number, midway: () => void | Promise<void>): ReadableStream<Uint8Array> {
    let offset = 0;
    let paused = false;
    return new ReadableStream({
      async pull(controller) {
        if (offset >= pauseAt && !paused) {
          paused = true;
          await midway();
        }
        if (offset >= data.length) {
          controller.close();
          return;
        }
        const end = Math.min(offset + 256 * 1024, data.length);
        controller.enqueue(new Uint8Array(data.subarray(offset, end)));
        offset = end;
      },
    });
  }

  async function uploadThrough(name: string, data: Buffer, midway: () => void | Promise<void>): Promise<Response> {
    return fetch(`${cluster.httpUrl}/v1/files?filename=${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${user.token}` },
      body: streamed(data, 3 * CHUNK, midway),
      duplex: 'half',
    });
  }

  /**
   * Every node up, every chunk at its factor, no job left; then nothing stray: each chunk file
   * on a disk is a recorded replica of a live file and each recorded replica is on its disk, no
   * upload open, no bytes reserved, used bytes exactly the files' sizes.
   */
  async function settled(): Promise<void> {
    await waitFor(
      'the cluster settled',
      async () => {
        // A killed node counts as up until its heartbeats are missed: look at the processes too.
        if (!['metadata', ...NODES].every((name) => isAlive(cluster.pidOf(name) ?? 0))) return false;
        const s = await env.status();
        return (
          s.nodes.length === NODES.length &&
          s.nodes.every((n) => n.status === 'up') &&
          s.under_replicated_chunks === 0 &&
          s.jobs.waiting === 0 &&
          s.jobs.active === 0
        );
      },
      120_000,
      500,
    );
    await waitFor(
      'no orphan chunk, reservation or open upload',
      async () => {
        const problems = await strayState();
        return problems.length === 0 ? true : undefined;
      },
      60_000,
      500,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(await strayState())}`);
    });
  }

  async function strayState(): Promise<string[]> {
    const onDisk = new Set(
      (await chunkFilesOnDisk(cluster.dataDir)).map((path) => `${basename(join(path, '../../..'))}/${basename(path)}`),
    );
    const recorded = new Set(
      (
        await pg.query<{ node_id: string; chunk_id: string }>(
          `SELECT r.node_id, r.chunk_id FROM metadata.chunk_replicas r
           JOIN metadata.chunks c ON c.id = r.chunk_id JOIN metadata.files f ON f.id = c.file_id`,
        )
      ).rows.map((r) => `${r.node_id}/${r.chunk_id}`),
    );
    const quota = await pg.query<{ used: string; reserved: string; files: string; open: string }>(
      `SELECT q.used_bytes AS used, q.reserved_bytes AS reserved,
              (SELECT COALESCE(sum(size_bytes), 0) FROM metadata.files WHERE owner_id = q.user_id AND deleted_at IS NULL) AS files,
              (SELECT count(*) FROM metadata.uploads WHERE owner_id = q.user_id AND status = 'open') AS open
       FROM metadata.user_quotas q WHERE q.user_id = $1`,
      [user.userId],
    );
    const row = quota.rows[0];
    return [
      ...[...onDisk].filter((k) => !recorded.has(k)).map((k) => `orphan ${k}`),
      ...[...recorded].filter((k) => !onDisk.has(k)).map((k) => `lost ${k}`),
      ...(row && row.used === row.files ? [] : [`used ${row?.used} for files of ${row?.files} bytes`]),
      ...(row?.reserved === '0' ? [] : [`reserved ${row?.reserved}`]),
      ...(row?.open === '0' ? [] : [`${row?.open} uploads open`]),
    ];
  }

  describe.each(Array.from({ length: ROUNDS }, (_, i) => i + 1))('round %i', (round) => {
    it.each(PAIRS)('reads every file with %s and %s frozen (SIGSTOP)', async (a, b) => {
      const pids = [freeze(a), freeze(b)];
      expect(await env.unreadableFiles()).toEqual([]);
      for (const pid of pids) thaw(pid);
    });

    // A refused connection fails over the same way whichever two die: one pair a round, in turn.
    it.each([PAIRS[(round - 1) % PAIRS.length]])('reads every file with %s and %s killed (SIGKILL)', async (a, b) => {
      for (const name of [a, b]) process.kill(cluster.pidOf(name) as number, 'SIGKILL');
      expect(await env.unreadableFiles()).toEqual([]);
    });

    it('finishes an upload during which a node is killed, on the nodes left', async () => {
      const data = randomBytes(6 * CHUNK + 123);
      const res = await uploadThrough('killed-midway.bin', data, () => {
        process.kill(cluster.pidOf('node-1') as number, 'SIGKILL');
      });
      const body = (await res.json()) as { file_id: string };
      expect({ status: res.status, body: res.status === 201 ? 'a file' : body }).toEqual({ status: 201, body: 'a file' });
      env.files.set(body.file_id, data);
      expect(sha256(await env.download(body.file_id))).toBe(sha256(data));
    });

    it('finishes an upload during which a node freezes, on the write quorum; the missing copies are repaired', async () => {
      const data = randomBytes(6 * CHUNK + 321);
      let frozen = 0;
      const res = await uploadThrough('frozen-midway.bin', data, () => {
        frozen = freeze('node-2');
      });
      const body = (await res.json()) as { file_id: string };
      thaw(frozen);
      expect({ status: res.status, body: res.status === 201 ? 'a file' : body }).toEqual({ status: 201, body: 'a file' });
      env.files.set(body.file_id, data);
      expect(sha256(await env.download(body.file_id))).toBe(sha256(data));
    });

    it('finishes a download during which a node freezes', async () => {
      const [fileId, data] = [...env.files].sort((x, y) => y[1].length - x[1].length)[0];
      const res = await fetch(`${cluster.httpUrl}/v1/files/${fileId}/content`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const parts: Uint8Array[] = [];
      let frozen = 0;
      for (let piece = await reader.read(); !piece.done; piece = await reader.read()) {
        parts.push(piece.value);
        if (frozen === 0) frozen = freeze('node-0');
      }
      thaw(frozen);
      expect([res.status, sha256(Buffer.concat(parts))]).toEqual([200, sha256(data)]);
    });

    it('leaves an upload whole or gone when the metadata service restarts under it, never charged twice', async () => {
      const data = randomBytes(5 * CHUNK + 77);
      const metadata = cluster.pidOf('metadata') as number;
      const res = await uploadThrough('metadata-restart.bin', data, async () => {
        process.kill(metadata, 'SIGKILL');
        await waitFor('metadata restarted', () => (cluster.pidOf('metadata') ?? metadata) !== metadata, 30_000, 100);
      });
      const body = (await res.json()) as { file_id?: string; code?: string };
      if (res.status === 201) env.files.set(body.file_id as string, data);
      const listed = await waitFor(
        'the metadata service answering again',
        async () => {
          const list = await rest.get<{ files: unknown[] }>('/v1/files?filter=metadata-restart', user.token);
          return list.status === 200 ? list.body.files.length : undefined;
        },
        60_000,
        200,
      );
      // Either whole and readable, or refused and not there at all.
      const outcome =
        res.status === 201
          ? { status: 201, sha: sha256(await env.download(body.file_id as string)) }
          : {
              status: res.status,
              code: body.code,
              listed,
            };
      const anyBody = expect.anything();
      expect({ ...outcome, body }).toEqual(
        res.status === 201
          ? { status: 201, sha: sha256(data), body: anyBody }
          : { status: 503, code: 'STORAGE_UNAVAILABLE', listed: 0, body: anyBody },
      );
    });
  });
});
