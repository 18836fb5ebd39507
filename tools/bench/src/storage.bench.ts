import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { Client } from 'pg';
import type { BenchCluster } from './bench-cluster';
import { cpuMsPerMiB } from './process-cpu';
import { type BenchSize, type LatencySummary, samples, summarize, timeSequential } from './stats';

export interface StorageBenchReport {
  upload_10mb: LatencySummary & { mb_per_s_at_p50: number };
  download_10mb: LatencySummary & { mb_per_s_at_p50: number };
  list_1000_of_100k: LatencySummary & { files_of_user: number };
  list_filtered_of_100k: LatencySummary;
  delete: LatencySummary;
  upload_1gib: {
    seconds: number;
    mib_per_s: number;
    gateway_peak_rss_mib: number;
    /** Of the busiest storage node. */
    node_peak_rss_mib: number;
    gateway_rss_before_mib: number;
    chunk_size_bytes: number;
    /** Process CPU time per MiB uploaded: gateway, all storage nodes together, metadata, and their sum. */
    cpu_ms_per_mib: Record<string, number>;
    /** The kernel's part of it (system calls, page faults of fresh buffers). */
    system_ms_per_mib: Record<string, number>;
  };
  download_1gib: {
    seconds: number;
    mib_per_s: number;
    sha256_matches: boolean;
    gateway_peak_rss_mib: number;
    node_peak_rss_mib: number;
    cpu_ms_per_mib: Record<string, number>;
    system_ms_per_mib: Record<string, number>;
  };
  seed_reference: { upload_10mb_ms: 250; download_10mb_ms: 200; list_1000_ms: 30; delete_ms: 15 };
}

const MiB = 1024 * 1024;

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/**
 * Samples the resident memory of each group's processes every 50 ms while `work` runs; returns
 * each group's peak (the largest of its processes, in MiB).
 */
export async function peakRss<T>(
  groups: Record<string, number[]>,
  work: () => Promise<T>,
): Promise<{ result: T; peakMiB: Record<string, number> }> {
  const peak: Record<string, number> = Object.fromEntries(Object.keys(groups).map((name) => [name, 0]));
  const sample = async () => {
    for (const [name, pids] of Object.entries(groups)) {
      for (const rss of await Promise.all(pids.map(rssMiB))) peak[name] = Math.max(peak[name] ?? 0, rss);
    }
  };
  await sample();
  const timer = setInterval(() => void sample(), 50);
  try {
    const result = await work();
    await sample();
    return { result, peakMiB: Object.fromEntries(Object.entries(peak).map(([name, mib]) => [name, Math.round(mib)])) };
  } finally {
    clearInterval(timer);
  }
}

/** The cluster's processes by role, for CPU and memory figures. */
export function processGroups(cluster: BenchCluster): { gateway: number[]; nodes: number[]; metadata: number[] } {
  const pidOf = (name: string) => cluster.cluster.process(name).pid ?? 0;
  return {
    gateway: [pidOf('gateway')],
    nodes: cluster.cluster.serviceNames.filter((n) => n.startsWith('node-')).map(pidOf),
    metadata: [pidOf('metadata')],
  };
}

/** Streams `total` bytes to PUT /v1/files without holding them in memory; resolves with the response and the SHA-256 sent. */
function streamUpload(
  base: string,
  token: string,
  filename: string,
  total: number,
): Promise<{ body: Record<string, unknown>; sha256: string }> {
  const block = randomBytes(4 * MiB);
  const hash = createHash('sha256');
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}/v1/files?filename=${encodeURIComponent(filename)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-length': String(total), 'content-type': 'application/octet-stream' },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () =>
        res.statusCode === 201
          ? resolve({ body: JSON.parse(text) as Record<string, unknown>, sha256: hash.digest('hex') })
          : reject(new Error(text)),
      );
    });
    let sent = 0;
    let counter = 0;
    const pump = () => {
      while (sent < total) {
        // Vary each block so no two chunks are alike.
        block.writeUInt32BE(counter++, 0);
        const piece = block.subarray(0, Math.min(block.length, total - sent));
        hash.update(piece);
        sent += piece.length;
        if (!req.write(Buffer.from(piece))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/** Streams a file's content down, hashing it as it comes; the SHA-256 of what arrived. */
export async function streamDownload(base: string, token: string, fileId: string): Promise<string> {
  const res = await fetch(`${base}/v1/files/${fileId}/content`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok || !res.body) throw new Error(`download ${res.status}: ${await res.text()}`);
  const hash = createHash('sha256');
  for await (const piece of res.body as AsyncIterable<Uint8Array>) hash.update(piece);
  return hash.digest('hex');
}

export async function request(method: string, url: string, token: string, body?: Buffer): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method, headers: { authorization: `Bearer ${token}` }, ...(body ? { body } : {}) });
  const data = await res.arrayBuffer();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${Buffer.from(data).toString()}`);
  return res.headers.get('content-type')?.includes('json')
    ? (JSON.parse(Buffer.from(data).toString()) as Record<string, unknown>)
    : {};
}

const mbps = (bytes: number, ms: number) => Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10;

/**
 * The data path as clients see it, through REST: 10 MB uploads and downloads, deletes, listing
 * 1000 of a user's 100,000 files, and 1 GiB streamed up and down with the gateway's peak memory.
 */
export async function benchStorage(
  cluster: BenchCluster,
  token: string,
  userId: string,
  size: BenchSize,
): Promise<StorageBenchReport> {
  const base = cluster.httpUrl;
  const count = samples(size, 20);
  const tenMb = randomBytes(10_000_000);
  const ids: string[] = [];
  const uploadSamples = await timeSequential(count, async (i) => {
    tenMb.writeUInt32BE(i, 0);
    ids.push((await request('PUT', `${base}/v1/files?filename=bench-${i}.bin`, token, tenMb))['file_id'] as string);
  });
  const downloadSamples = await timeSequential(count, async (i) => {
    await request('GET', `${base}/v1/files/${ids[i]}/content`, token);
  });
  const deleteSamples = await timeSequential(count, async (i) => {
    await request('DELETE', `${base}/v1/files/${ids[i]}`, token);
  });

  // 100,000 files straight into the metadata database: uploading them would take the whole run.
  const pg = new Client({ connectionString: cluster.env['DATABASE_URL'] });
  await pg.connect();
  const filesOfUser = 100_000;
  await pg.query(
    `INSERT INTO metadata.files (id, public_id, owner_id, filename, size_bytes, sha256, chunk_count, chunk_size, uploaded_at)
     SELECT id, id, $1, 'document-' || g || '.txt', 1000, repeat('0', 64), 1, 1000, now() - make_interval(secs => g)
     FROM (SELECT gen_random_uuid() AS id, g FROM generate_series(1, $2) g) generated`,
    [userId, filesOfUser],
  );
  await pg.query('UPDATE metadata.user_quotas SET file_count = file_count + $2 WHERE user_id = $1', [userId, filesOfUser]);
  await pg.query('ANALYZE metadata.files');
  await pg.end();
  const listSamples = await timeSequential(count, async (i) => {
    const page = await request('GET', `${base}/v1/files?limit=1000&offset=${i * 1000}`, token);
    if ((page['files'] as unknown[]).length !== 1000 || (page['total_count'] as number) < filesOfUser)
      throw new Error('listing returned the wrong page');
  });
  const filteredSamples = await timeSequential(count, async (i) => {
    await request('GET', `${base}/v1/files?limit=1000&filter=document-${i + 1}00`, token);
  });

  const gib = Math.round(1024 * MiB * size.scale);
  const groups = processGroups(cluster);
  const rssGroups = { gateway: groups.gateway, nodes: groups.nodes };
  const rssBefore = await rssMiB(groups.gateway[0] ?? 0);
  const uploadStarted = performance.now();
  const {
    result: { result: uploaded, peakMiB },
    cpuMsPerMiB: uploadCpu,
    systemMsPerMiB: uploadSystem,
  } = await cpuMsPerMiB(groups, gib / MiB, () => peakRss(rssGroups, () => streamUpload(base, token, 'one-gib.bin', gib)));
  const uploadMs = performance.now() - uploadStarted;
  const downloadStarted = performance.now();
  const {
    result: { result: downloadedSha, peakMiB: downloadPeakMiB },
    cpuMsPerMiB: downloadCpu,
    systemMsPerMiB: downloadSystem,
  } = await cpuMsPerMiB(groups, gib / MiB, () =>
    peakRss(rssGroups, () => streamDownload(base, token, uploaded.body['file_id'] as string)),
  );
  const downloadMs = performance.now() - downloadStarted;

  const latency = (samples: number[]) => {
    const summary = summarize(samples);
    return { ...summary, mb_per_s_at_p50: mbps(10_000_000, summary.p50_ms) };
  };
  return {
    upload_10mb: latency(uploadSamples),
    download_10mb: latency(downloadSamples),
    list_1000_of_100k: { ...summarize(listSamples), files_of_user: filesOfUser },
    list_filtered_of_100k: summarize(filteredSamples),
    delete: summarize(deleteSamples),
    upload_1gib: {
      seconds: Math.round(uploadMs) / 1000,
      mib_per_s: Math.round((gib / MiB / (uploadMs / 1000)) * 10) / 10,
      gateway_peak_rss_mib: peakMiB['gateway'] ?? 0,
      node_peak_rss_mib: peakMiB['nodes'] ?? 0,
      gateway_rss_before_mib: Math.round(rssBefore),
      chunk_size_bytes: Number(cluster.env['CHUNK_SIZE_BYTES'] ?? 4 * MiB),
      cpu_ms_per_mib: uploadCpu,
      system_ms_per_mib: uploadSystem,
    },
    download_1gib: {
      seconds: Math.round(downloadMs) / 1000,
      mib_per_s: Math.round((gib / MiB / (downloadMs / 1000)) * 10) / 10,
      sha256_matches: downloadedSha === uploaded.sha256 && uploaded.body['checksum'] === uploaded.sha256,
      gateway_peak_rss_mib: downloadPeakMiB['gateway'] ?? 0,
      node_peak_rss_mib: downloadPeakMiB['nodes'] ?? 0,
      cpu_ms_per_mib: downloadCpu,
      system_ms_per_mib: downloadSystem,
    },
    seed_reference: { upload_10mb_ms: 250, download_10mb_ms: 200, list_1000_ms: 30, delete_ms: 15 },
  };
}
