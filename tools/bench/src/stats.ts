/** How much each part measures: sizes and counts are scaled, with at least `minSamples` samples per figure. */
export interface BenchSize {
  readonly scale: number;
  readonly minSamples: number;
}

/** `full` samples at scale 1, scaled, and never fewer than the run's minimum. */
export function samples(size: BenchSize, full: number): number {
  return Math.max(size.minSamples, Math.round(full * size.scale));
}

/** Latency summary of a series of timed operations, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  min_ms: number;
  max_ms: number;
  mean_ms: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? 0;
}

const round = (n: number) => Math.round(n * 100) / 100;

export function summarize(samplesMs: number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50_ms: round(percentile(sorted, 50)),
    p95_ms: round(percentile(sorted, 95)),
    p99_ms: round(percentile(sorted, 99)),
    min_ms: round(sorted[0] ?? 0),
    max_ms: round(sorted.at(-1) ?? 0),
    mean_ms: round(sorted.length ? sum / sorted.length : 0),
  };
}

/** Runs `operation` `count` times one after another; returns each duration in ms. */
export async function timeSequential(count: number, operation: (i: number) => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    await operation(i);
    samples.push(performance.now() - started);
  }
  return samples;
}

/** Runs `count` operations with `concurrency` in flight; returns completed operations per second. */
export async function throughput(count: number, concurrency: number, operation: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next;
        next += 1;
        await operation(i);
      }
    }),
  );
  return round(count / ((performance.now() - started) / 1000));
}
