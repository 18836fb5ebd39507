import type { AuthBenchReport } from './auth.bench';
import type { ConcurrencyBenchReport } from './concurrency.bench';
import type { MachineBounds } from './machine-bounds.bench';
import type { StorageBenchReport } from './storage.bench';

/** One figure of the run against its target (issue #13's table), and against what the machine allows where that bounds it. */
export interface TargetRow {
  readonly scenario: string;
  readonly value: number;
  readonly unit: string;
  /** The target in words, with the bound's figure filled in. */
  readonly target: string;
  readonly met: boolean;
  /** Value ÷ target: at most 1 is met for times, CPU and memory; at least 1 for rates. */
  readonly ratio_to_target: number;
  /** What the machine allows for this figure, measured in the same run (unit as `value`). */
  readonly bound?: number;
  readonly ratio_to_bound?: number;
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : 0);

function atMost(scenario: string, value: number, unit: string, limit: number, target = `≤ ${limit} ${unit}`): TargetRow {
  return { scenario, value, unit, target, met: value <= limit, ratio_to_target: ratio(value, limit) };
}

function atLeast(scenario: string, value: number, unit: string, floor: number): TargetRow {
  return { scenario, value, unit, target: `≥ ${floor} ${unit}`, met: value >= floor, ratio_to_target: ratio(value, floor) };
}

/** The rows the parts that ran can fill. */
export function targetRows(parts: {
  auth?: AuthBenchReport;
  storage?: StorageBenchReport;
  concurrency?: ConcurrencyBenchReport;
  bounds?: MachineBounds;
}): TargetRow[] {
  const rows: TargetRow[] = [];
  const { auth, storage, concurrency, bounds } = parts;
  if (auth) {
    const hash = auth.argon2.hash.p50_ms;
    for (const [scenario, value, seed] of [
      ['register p50', auth.register.p50_ms, 45],
      ['login + OTP p50', auth.login_otp.p50_ms, 80],
    ] as const) {
      const limit = Math.min(seed, hash + 15);
      rows.push({
        ...atMost(scenario, value, 'ms', limit, `≤ Argon2id hash + 15 ms (${Math.round(hash + 15)}) and ≤ ${seed} ms`),
        bound: hash,
        ratio_to_bound: ratio(value, hash),
      });
    }
  }
  if (storage) {
    rows.push(
      atMost('upload 10 MB p50', storage.upload_10mb.p50_ms, 'ms', 100),
      atMost('download 10 MB p50', storage.download_10mb.p50_ms, 'ms', 40),
      atMost('list 1000 of 100,000 p50', storage.list_1000_of_100k.p50_ms, 'ms', 10),
      atMost('delete p50', storage.delete.p50_ms, 'ms', 5),
      atMost('CPU per MiB uploaded (gateway + nodes + metadata)', storage.upload_1gib.cpu_ms_per_mib['total'] ?? 0, 'ms', 10),
      atMost('CPU per MiB downloaded', storage.download_1gib.cpu_ms_per_mib['total'] ?? 0, 'ms', 5),
      atMost('gateway peak RSS, 1 GiB upload', storage.upload_1gib.gateway_peak_rss_mib, 'MiB', 200),
    );
    const upload = storage.upload_1gib.mib_per_s;
    const download = storage.download_1gib.mib_per_s;
    if (bounds) {
      const perWriter = bounds.disk_write_3x.mib_per_s_per_writer;
      const uploadFloor = Math.max(150, 0.8 * perWriter);
      rows.push({
        scenario: 'upload 1 GiB, factor 3',
        value: upload,
        unit: 'MiB/s',
        target: `≥ 150 MiB/s and ≥ 0.8 × 3-writer disk rate ÷ 3 (${Math.round(0.8 * perWriter)})`,
        met: upload >= uploadFloor,
        ratio_to_target: ratio(upload, uploadFloor),
        bound: perWriter,
        ratio_to_bound: ratio(upload, perWriter),
      });
      const readBound = Math.min(bounds.sha256_mib_per_s_one_core, bounds.disk_read.mib_per_s);
      const downloadFloor = Math.max(400, 0.5 * readBound);
      rows.push({
        scenario: 'download 1 GiB',
        value: download,
        unit: 'MiB/s',
        target: `≥ 400 MiB/s and ≥ 0.5 × min(SHA-256 rate, disk read) (${Math.round(0.5 * readBound)})`,
        met: download >= downloadFloor,
        ratio_to_target: ratio(download, downloadFloor),
        bound: readBound,
        ratio_to_bound: ratio(download, readBound),
      });
    }
  }
  if (concurrency) {
    const { small_files: small, concurrent_transfers: together } = concurrency;
    const clients = `${together.clients} clients`;
    rows.push(
      atLeast(`1 KiB uploads, ${small.clients} clients`, small.files_per_s, 'files/s', 1000),
      atMost(`${clients} × 10 MiB up+down, errors`, together.errors + small.errors, 'errors', 0),
      {
        scenario: `${clients} × 10 MiB up+down, aggregate`,
        value: together.aggregate_mib_per_s,
        unit: 'MiB/s',
        target: `≥ 0.8 × one stream (${Math.round(0.8 * together.one_stream_mib_per_s)})`,
        met: together.ratio_to_one_stream >= 0.8,
        ratio_to_target: ratio(together.ratio_to_one_stream, 0.8),
        bound: together.one_stream_mib_per_s,
        ratio_to_bound: together.ratio_to_one_stream,
      },
      atMost(`gateway peak RSS, ${clients} × 10 MiB`, together.gateway_peak_rss_mib, 'MiB', 200),
    );
  }
  return rows;
}

/** The rows as a plain-text table for the terminal. */
export function formatTargetTable(rows: readonly TargetRow[]): string {
  const header = ['scenario', 'result', 'target', 'met', '÷ target', 'bound', '÷ bound'];
  const lines = rows.map((r) => [
    r.scenario,
    `${r.value} ${r.unit}`,
    r.target,
    r.met ? 'yes' : 'no',
    String(r.ratio_to_target),
    r.bound === undefined ? '' : `${r.bound} ${r.unit}`,
    r.ratio_to_bound === undefined ? '' : String(r.ratio_to_bound),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [format(header), format(widths.map((w) => '-'.repeat(w))), ...lines.map(format)].join('\n');
}
