import { createHash, randomBytes } from 'node:crypto';
import type { BenchCluster } from './bench-cluster';
import { cpuMsPerMiB } from './process-cpu';
import { type BenchSize, type LatencySummary, samples, summarize } from './stats';
import { peakRss, processGroups, request, streamDownload } from './storage.bench';

export interface ConcurrencyBenchReport {
  small_files: {
    clients: number;
    file_bytes: number;
    files: number;
    files_per_s: number;
    upload: LatencySummary;
    errors: number;
    error_samples: string[];
    /** Process CPU time per file stored, by role. */
    cpu_ms_per_file: Record<string, number>;
  };
  concurrent_transfers: {
    clients: number;
    file_bytes: number;
    /** One client alone uploading then downloading the same size, in the same run: what the aggregate is held against. */
    one_stream_mib_per_s: number;
    /** Bytes moved up and down by all clients together ÷ the time they took. */
    aggregate_mib_per_s: number;
    ratio_to_one_stream: number;
    upload: LatencySummary;
    download: LatencySummary;
    /** Failed transfers and downloads whose bytes were not the uploaded ones: must be 0. */
    errors: number;
    error_samples: string[];
    gateway_peak_rss_mib: number;
    node_peak_rss_mib: number;
  };
}

const MiB = 1024 * 1024;
const SMALL_FILE_BYTES = 1024;
const SMALL_FILE_CLIENTS = 16;
const TRANSFER_BYTES = 10 * MiB;
const TRANSFER_CLIENTS = 50;

const round = (n: number, places = 2) => Math.round(n * 10 ** places) / 10 ** places;

/** Failures counted and the first few kept, so one bad transfer does not end the run but shows in the report. */
class Failures {
  count = 0;
  readonly samples: string[] = [];
  record(error: unknown): void {
    this.count += 1;
    // fetch's own message ("fetch failed") says nothing: the cause says what the socket saw.
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    if (this.samples.length < 5)
      this.samples.push(error instanceof Error ? `${error.message}${cause}`.slice(0, 300) : String(error));
  }
}

/** Each of `clients` runs operations one after another until `count` have started; each operation's time in ms, failures apart. */
async function timedByClients(
  clients: number,
  count: number,
  failures: Failures,
  operation: (i: number) => Promise<void>,
): Promise<number[]> {
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count) {
        const i = next;
        next += 1;
        const started = performance.now();
        try {
          await operation(i);
          times.push(performance.now() - started);
        } catch (error) {
          failures.record(error);
        }
      }
    }),
  );
  return times;
}

/** Uploads `body`, downloads it again and checks the bytes; the time of each half. */
async function upAndDown(
  base: string,
  token: string,
  name: string,
  body: Buffer,
): Promise<{ uploadMs: number; downloadMs: number }> {
  const started = performance.now();
  const file = await request('PUT', `${base}/v1/files?filename=${name}`, token, body);
  const uploaded = performance.now();
  const sha256 = await streamDownload(base, token, file['file_id'] as string);
  if (sha256 !== createHash('sha256').update(body).digest('hex')) throw new Error(`${name}: downloaded bytes differ`);
  return { uploadMs: uploaded - started, downloadMs: performance.now() - uploaded };
}

/**
 * Many clients at once through REST: 1 KiB uploads from 16 clients (files per second, where the
 * per-file cost shows rather than bytes), and 50 clients each uploading and downloading 10 MiB
 * at the same time (aggregate throughput against one client alone, tail latency, errors, and
 * the memory the gateway and nodes need for it).
 */
export async function benchConcurrency(cluster: BenchCluster, token: string, size: BenchSize): Promise<ConcurrencyBenchReport> {
  const base = cluster.httpUrl;
  const groups = processGroups(cluster);

  const files = samples(size, 1600);
  const small = randomBytes(SMALL_FILE_BYTES);
  const smallFailures = new Failures();
  const smallStarted = performance.now();
  const { result: smallTimes, cpuMsPerMiB: cpuPerFile } = await cpuMsPerMiB(groups, files, () =>
    timedByClients(SMALL_FILE_CLIENTS, files, smallFailures, async (i) => {
      const body = Buffer.from(small);
      body.writeUInt32BE(i, 0);
      await request('PUT', `${base}/v1/files?filename=small-${i}.bin`, token, body);
    }),
  );
  const smallSeconds = (performance.now() - smallStarted) / 1000;

  const pattern = randomBytes(TRANSFER_BYTES);
  const bodyFor = (i: number) => {
    const body = Buffer.from(pattern);
    body.writeUInt32BE(i, 0);
    return body;
  };
  const alone: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const { uploadMs, downloadMs } = await upAndDown(base, token, `alone-${i}.bin`, bodyFor(i));
    alone.push((2 * TRANSFER_BYTES) / MiB / ((uploadMs + downloadMs) / 1000));
  }
  const oneStream = [...alone].sort((a, b) => a - b)[1] ?? 0;

  const clients = Math.max(4, Math.round(TRANSFER_CLIENTS * size.scale));
  const transferFailures = new Failures();
  const uploads: number[] = [];
  const downloads: number[] = [];
  const started = performance.now();
  const { peakMiB } = await peakRss({ gateway: groups.gateway, nodes: groups.nodes }, () =>
    timedByClients(clients, clients, transferFailures, async (i) => {
      const { uploadMs, downloadMs } = await upAndDown(base, token, `together-${i}.bin`, bodyFor(1000 + i));
      uploads.push(uploadMs);
      downloads.push(downloadMs);
    }),
  );
  const aggregate = (2 * TRANSFER_BYTES * uploads.length) / MiB / ((performance.now() - started) / 1000);

  return {
    small_files: {
      clients: SMALL_FILE_CLIENTS,
      file_bytes: SMALL_FILE_BYTES,
      files,
      files_per_s: round(smallTimes.length / smallSeconds, 1),
      upload: summarize(smallTimes),
      errors: smallFailures.count,
      error_samples: smallFailures.samples,
      cpu_ms_per_file: cpuPerFile,
    },
    concurrent_transfers: {
      clients,
      file_bytes: TRANSFER_BYTES,
      one_stream_mib_per_s: round(oneStream, 1),
      aggregate_mib_per_s: round(aggregate, 1),
      ratio_to_one_stream: round(aggregate / oneStream),
      upload: summarize(uploads),
      download: summarize(downloads),
      errors: transferFailures.count,
      error_samples: transferFailures.samples,
      gateway_peak_rss_mib: peakMiB['gateway'] ?? 0,
      node_peak_rss_mib: peakMiB['nodes'] ?? 0,
    },
  };
}
