import { createHash } from 'node:crypto';
import { cpuMsPerMiB, processCpu } from './process-cpu';

describe('process CPU time', () => {
  function burn(ms: number): void {
    const until = process.cpuUsage().user / 1000 + ms;
    while (process.cpuUsage().user / 1000 < until) createHash('sha256').update('x').digest();
  }

  it('reads the CPU time a process has used from /proc, and 0 for a process that is gone', async () => {
    const before = await processCpu(process.pid);
    burn(200);
    const after = await processCpu(process.pid);
    // /proc counts in 10 ms ticks: 200 ms of work shows as at least 150.
    expect(after.totalMs - before.totalMs).toBeGreaterThanOrEqual(150);
    expect(after.systemMs).toBeLessThanOrEqual(after.totalMs);
    expect(await processCpu(2 ** 22 + 1)).toEqual({ totalMs: 0, systemMs: 0 });
  });

  it('reports the CPU per MiB of each group of processes while the work ran, and their sum', async () => {
    const {
      result,
      cpuMsPerMiB: perMiB,
      systemMsPerMiB,
    } = await cpuMsPerMiB({ self: [process.pid], gone: [2 ** 22 + 1] }, 10, () => {
      burn(300);
      return Promise.resolve('done');
    });
    expect(result).toBe('done');
    expect(perMiB['self']).toBeGreaterThanOrEqual(25);
    expect(perMiB['gone']).toBe(0);
    expect(perMiB['total']).toBe(perMiB['self']);
    expect(systemMsPerMiB['self']).toBeLessThanOrEqual(perMiB['self'] ?? 0);
    expect(systemMsPerMiB['gone']).toBe(0);
  });
});
