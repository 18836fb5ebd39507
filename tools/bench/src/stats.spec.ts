import { summarize, throughput, timeSequential } from './stats';

describe(summarize.name, () => {
  it('gives nearest-rank percentiles, extremes and the mean of unsorted samples', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1
    expect(summarize(samples)).toEqual({ count: 100, p50_ms: 50, p95_ms: 95, p99_ms: 99, min_ms: 1, max_ms: 100, mean_ms: 50.5 });
  });

  it('takes the sample at or above the rank for small series, and rounds to hundredths', () => {
    expect(summarize([3.14159, 1, 2])).toEqual({
      count: 3,
      p50_ms: 2,
      p95_ms: 3.14,
      p99_ms: 3.14,
      min_ms: 1,
      max_ms: 3.14,
      mean_ms: 2.05,
    });
    expect(summarize([7])).toMatchObject({ p50_ms: 7, p95_ms: 7 });
  });

  it('summarizes an empty series as zeros, not NaN', () => {
    expect(summarize([])).toEqual({ count: 0, p50_ms: 0, p95_ms: 0, p99_ms: 0, min_ms: 0, max_ms: 0, mean_ms: 0 });
  });

  it('leaves the samples as they were', () => {
    const samples = [3, 1, 2];
    summarize(samples);
    expect(samples).toEqual([3, 1, 2]);
  });
});

describe(timeSequential.name, () => {
  it('runs the operations one after another and times each', async () => {
    const order: number[] = [];
    let inFlight = 0;
    const samples = await timeSequential(4, async (i) => {
      inFlight += 1;
      expect(inFlight).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push(i);
      inFlight -= 1;
    });
    expect(order).toEqual([0, 1, 2, 3]);
    expect(samples).toHaveLength(4);
    for (const sample of samples) expect(sample).toBeGreaterThanOrEqual(4);
  });
});

describe(throughput.name, () => {
  it('runs each operation exactly once with at most `concurrency` in flight, using all of them', async () => {
    const done: number[] = [];
    let inFlight = 0;
    let peak = 0;
    const rate = await throughput(20, 4, async (i) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      done.push(i);
      inFlight -= 1;
    });
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(peak).toBe(4);
    expect(rate).toBeGreaterThan(0);
  });
});
