import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

interface TargetRow {
  scenario: string;
  value: number;
  met: boolean;
  ratio_to_target: number;
  bound?: number;
  ratio_to_bound?: number;
}

interface QuickReport {
  quick: boolean;
  bounds: Record<string, Record<string, number | boolean> | number>;
  storage: { download_1gib: { sha256_matches: boolean; cpu_ms_per_mib: Record<string, number> } };
  concurrency: {
    small_files: { files: number; files_per_s: number; errors: number; error_samples: string[] };
    concurrent_transfers: { clients: number; aggregate_mib_per_s: number; errors: number; error_samples: string[] };
  };
  targets: TargetRow[];
}

const ROOT = join(__dirname, '..', '..');

/** `npm run bench -- --quick` runs here so the benchmark harness cannot rot unnoticed. */
describe('the benchmark, quick', () => {
  let stdout: string;
  let report: QuickReport;

  beforeAll(async () => {
    ({ stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'dist/tools/bench/src/main.js'), '--quick'], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 170_000,
    }));
    const file = /bench: report written to (.+\.json)/.exec(stdout)?.[1] ?? '';
    report = JSON.parse(await readFile(file, 'utf8')) as QuickReport;
    await rm(file);
  }, 180_000);

  it('measures the machine bounds and both parts, bytes checked end to end', () => {
    expect(report.quick).toBe(true);
    expect(report.bounds['sha256_mib_per_s_one_core']).toBeGreaterThan(0);
    expect(report.bounds['aes_256_gcm_mib_per_s_one_core']).toBeGreaterThan(0);
    expect(report.bounds['disk_write_3x']).toMatchObject({ mib_per_s_per_writer: expect.any(Number) });
    expect(report.storage.download_1gib.sha256_matches).toBe(true);
    expect(report.storage.download_1gib.cpu_ms_per_mib['gateway']).toBeGreaterThan(0);
  });

  it('runs clients at once without an error, every download checked against its upload', () => {
    const { small_files: small, concurrent_transfers: together } = report.concurrency;
    expect({ errors: small.errors, samples: small.error_samples }).toEqual({ errors: 0, samples: [] });
    expect({ errors: together.errors, samples: together.error_samples }).toEqual({ errors: 0, samples: [] });
    expect(small.files_per_s).toBeGreaterThan(0);
    expect(together.aggregate_mib_per_s).toBeGreaterThan(0);
  });

  it('holds every figure against its target, and the transfers against what the machine allows', () => {
    expect(report.targets.map((r) => r.scenario)).toEqual(
      expect.arrayContaining(['register p50', 'login + OTP p50', 'upload 10 MB p50', 'upload 1 GiB, factor 3', 'download 1 GiB']),
    );
    // Every figure measured; only an error count may be (and must be) zero.
    for (const row of report.targets.filter((r) => !r.scenario.endsWith('errors'))) {
      expect(Number.isFinite(row.value) && row.value > 0).toBe(true);
      expect(row.ratio_to_target).toBeGreaterThan(0);
    }
    const bounded = report.targets.filter((r) => r.bound !== undefined);
    expect(bounded.map((r) => r.scenario).sort()).toEqual([
      '4 clients × 10 MiB up+down, aggregate',
      'download 1 GiB',
      'login + OTP p50',
      'register p50',
      'upload 1 GiB, factor 3',
    ]);
    expect(stdout).toMatch(/scenario +result +target +met +÷ target +bound +÷ bound/);
  });
});
