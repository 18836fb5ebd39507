import type { AuthBenchReport } from './auth.bench';
import type { MachineBounds } from './machine-bounds.bench';
import type { StorageBenchReport } from './storage.bench';
import { formatTargetTable, targetRows } from './targets';

const latency = (p50: number) => ({ count: 5, p50_ms: p50, p95_ms: p50, p99_ms: p50, min_ms: p50, max_ms: p50, mean_ms: p50 });

describe('targets', () => {
  const auth = {
    argon2: { parameters: 'argon2id', hash: latency(37) },
    register: { ...latency(50), throughput_per_s: 40, concurrency: 4 },
    login_otp: { ...latency(70), throughput_per_s: 20, concurrency: 4 },
  } as AuthBenchReport;
  const storage = {
    upload_10mb: latency(90),
    download_10mb: latency(50),
    list_1000_of_100k: { ...latency(8), files_of_user: 100_000 },
    delete: latency(4),
    upload_1gib: { mib_per_s: 155, gateway_peak_rss_mib: 180, cpu_ms_per_mib: { total: 12 } },
    download_1gib: { mib_per_s: 300, cpu_ms_per_mib: { total: 4 } },
  } as unknown as StorageBenchReport;
  const bounds = {
    disk_write_3x: { mib_each: 1024, mib_per_s_total: 600, mib_per_s_per_writer: 200 },
    disk_read: { mib: 1024, mib_per_s: 900, cold: true },
    sha256_mib_per_s_one_core: 1400,
    aes_256_gcm_mib_per_s_one_core: 1900,
  } as MachineBounds;

  it('meets a login target only within both the hash plus 15 ms and the seed, and reports the ratio to the bare hash', () => {
    const rows = targetRows({ auth });
    expect(rows.find((r) => r.scenario === 'register p50')).toMatchObject({ met: false, bound: 37, ratio_to_bound: 1.35 });
    expect(rows.find((r) => r.scenario === 'login + OTP p50')).toMatchObject({ met: false, ratio_to_target: 1.35 });
  });

  it('holds transfers against the larger of the fixed floor and the share of the machine bound', () => {
    const rows = targetRows({ storage, bounds });
    // 155 MiB/s passes 150 but not 0.8 × 200.
    expect(rows.find((r) => r.scenario === 'upload 1 GiB, factor 3')).toMatchObject({
      met: false,
      bound: 200,
      ratio_to_bound: 0.78,
    });
    // The bound is the lower of SHA-256 and the disk read (900); the floor the larger of 400 and half of it.
    expect(rows.find((r) => r.scenario === 'download 1 GiB')).toMatchObject({ met: false, bound: 900, ratio_to_target: 0.67 });
    expect(rows.filter((r) => r.met).map((r) => r.scenario)).toEqual([
      'upload 10 MB p50',
      'list 1000 of 100,000 p50',
      'delete p50',
      'CPU per MiB downloaded',
      'gateway peak RSS, 1 GiB upload',
    ]);
  });

  it('leaves out what the parts that ran cannot fill, and prints one aligned line per row', () => {
    expect(targetRows({ storage }).some((r) => r.bound !== undefined)).toBe(false);
    const table = formatTargetTable(targetRows({ auth })).split('\n');
    expect(table).toHaveLength(4);
    expect(table[0]).toMatch(/^scenario +result +target/);
    expect(table[2]).toMatch(/^register p50 +50 ms +≤ Argon2id hash \+ 15 ms \(52\) and ≤ 45 ms +no/);
  });
});
