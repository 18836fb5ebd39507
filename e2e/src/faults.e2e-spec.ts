import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { waitFor } from '@cloudstore/testing';
import { Client } from 'pg';
import { RestClient } from './support/api-clients';
import { signInAs, signUp, type TestUser } from './support/accounts';
import { ClusterProcess, isAlive } from './support/cluster-process';
import { chunkFilesOnDisk, restUpload, sha256 } from './support/file-transfers';
import { RedisServer } from './support/redis-server';
import { SmtpSink } from './support/smtp-sink';

/**
 * The fault suite: what the cluster promises while nodes freeze, die or lose their disks, and
 * Redis or the metadata service restart. Each scenario checks every byte by SHA-256 and ends
 * with the cluster settled: every chunk at its factor, no orphan chunk on any disk, no
 * reservation or open upload left, the quota exactly what the files use.
 *
 * Read and write deadlines are set far beyond the test's time, so only hedged reads, circuit
 * breakers and write quorums can get a scenario through. `npm run test:faults -- --repeat N`
 * runs every scenario N times (FAULT_REPEAT); `npm test` runs them once.
 */
const ROUNDS = Math.max(1, Number(process.env['FAULT_REPEAT'] ?? 1));
const CHUNK = 1024 * 1024;
const NODES = ['node-0', 'node-1', 'node-2'];
const PAIRS = [
  ['node-0', 'node-1'],
  ['node-0', 'node-2'],
  ['node-1', 'node-2'],
] as const;
const ADMIN = { username: 'fault_admin', email: 'fault_admin@example.com', password: 'Admin-Passw0rd-2026!' };

interface ClusterStatus {
  nodes: { node_id: string; status: string }[];
  under_replicated_chunks: number;
  jobs: { waiting: number; active: number };
}

describe('fault suite: 3 nodes, replication factor 3, write quorum 2, real processes', () => {
  let smtp: SmtpSink;
  let redis: RedisServer;
  let cluster: ClusterProcess;
  let rest: RestClient;
  let admin: TestUser;
  let user: TestUser;
  let pg: Client;
  const files = new Map<string, Buffer>();
  const stopped = new Set<number>();

  beforeAll(async () => {
    smtp = await SmtpSink.start();
    redis = await RedisServer.start();
    cluster = await ClusterProcess.start({
      SMTP_URL: smtp.url,
      REDIS_URL: redis.url,
      CHUNK_SIZE_BYTES: String(CHUNK),
      NODE_DOWN_AFTER_SECONDS: '6',
      HEARTBEAT_INTERVAL_SECONDS: '1',
      REPLICATION_CHECK_INTERVAL_SECONDS: '2',
      SCRUB_INTERVAL_SECONDS: '3600',
      REBALANCE_INTERVAL_SECONDS: '0',
      UPLOAD_IDLE_TIMEOUT_SECONDS: '5',
      CHUNK_READ_TIMEOUT_MS: '600000',
      CHUNK_WRITE_TIMEOUT_MS: '600000',
      WRITE_QUORUM: '2',
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
    });
    await cluster.waitUntilReady();
    rest = new RestClient(cluster.httpUrl);
    admin = await signInAs(rest, smtp, ADMIN);
    user = await signUp(rest, smtp, 'faults');
    pg = new Client({ connectionString: String(cluster.env['DATABASE_URL']) });
    await pg.connect();
    for (let i = 0; i < 6; i += 1) {
      const data = randomBytes(Math.floor(CHUNK * (0.5 + (i % 4))));
      files.set(await restUpload(cluster.httpUrl, user.token, `seed-${i}.bin`, data), data);
    }
  });

  afterEach(async () => {
    // A failed scenario must not leave frozen processes behind for the next one.
    for (const pid of stopped) signal(pid, 'SIGCONT');
    stopped.clear();
    await settled();
  });

  afterAll(async () => {
    await pg?.end();
    await cluster?.destroy();
    await redis?.destroy();
    await smtp?.close();
  });

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

  async function download(fileId: string): Promise<Buffer> {
    const res = await fetch(`${cluster.httpUrl}/v1/files/${fileId}/content`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`download ${fileId}: ${res.status} ${body.toString()}`);
    return body;
  }

  async function expectEveryFileIdentical(): Promise<void> {
    for (const [fileId, data] of files)
      expect({ fileId, sha: sha256(await download(fileId)) }).toEqual({ fileId, sha: sha256(data) });
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

  async function status(): Promise<ClusterStatus> {
    return (await rest.get<ClusterStatus>('/v1/admin/cluster', admin.token)).body;
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
        const s = await status();
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
      await expectEveryFileIdentical();
      for (const pid of pids) thaw(pid);
    });

    it.each(PAIRS)('reads every file with %s and %s killed (SIGKILL)', async (a, b) => {
      for (const name of [a, b]) process.kill(cluster.pidOf(name) as number, 'SIGKILL');
      await expectEveryFileIdentical();
    });

    it('finishes an upload during which a node is killed, on the nodes left', async () => {
      const data = randomBytes(6 * CHUNK + 123);
      const res = await uploadThrough('killed-midway.bin', data, () => {
        process.kill(cluster.pidOf('node-1') as number, 'SIGKILL');
      });
      const body = (await res.json()) as { file_id: string };
      expect({ status: res.status, body }).toMatchObject({ status: 201 });
      files.set(body.file_id, data);
      expect(sha256(await download(body.file_id))).toBe(sha256(data));
    });

    it('finishes an upload during which a node freezes, on the write quorum; the missing copies are repaired', async () => {
      const data = randomBytes(6 * CHUNK + 321);
      let frozen = 0;
      const res = await uploadThrough('frozen-midway.bin', data, () => {
        frozen = freeze('node-2');
      });
      const body = (await res.json()) as { file_id: string };
      thaw(frozen);
      expect({ status: res.status, body }).toMatchObject({ status: 201 });
      files.set(body.file_id, data);
      expect(sha256(await download(body.file_id))).toBe(sha256(data));
    });

    it('finishes a download during which a node freezes', async () => {
      const [fileId, data] = [...files].sort((x, y) => y[1].length - x[1].length)[0];
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

    it('finishes a repair across a restart of Redis', async () => {
      const victim = NODES[round % NODES.length];
      process.kill(cluster.pidOf(victim) as number, 'SIGKILL');
      await rm(join(cluster.dataDir, 'nodes', victim), { recursive: true, force: true });
      await waitFor(
        `${victim} back on an empty disk`,
        async () => {
          const diskId = await readFile(join(cluster.dataDir, 'nodes', victim, 'disk-id'), 'utf8').catch(() => undefined);
          const row = await pg.query<{ disk_id: string }>('SELECT disk_id FROM metadata.storage_nodes WHERE node_id = $1', [
            victim,
          ]);
          return diskId !== undefined && row.rows[0]?.disk_id === diskId.trim();
        },
        60_000,
        100,
      );
      await redis.restart();
      await settled();
      await expectEveryFileIdentical();
    });

    it('leaves an upload whole or gone when the metadata service restarts under it, never charged twice', async () => {
      const data = randomBytes(5 * CHUNK + 77);
      const metadata = cluster.pidOf('metadata') as number;
      const res = await uploadThrough('metadata-restart.bin', data, async () => {
        process.kill(metadata, 'SIGKILL');
        await waitFor('metadata restarted', () => (cluster.pidOf('metadata') ?? metadata) !== metadata, 30_000, 100);
      });
      const body = (await res.json()) as { file_id?: string; code?: string };
      if (res.status === 201) files.set(body.file_id as string, data);
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
          ? { status: 201, sha: sha256(await download(body.file_id as string)) }
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
