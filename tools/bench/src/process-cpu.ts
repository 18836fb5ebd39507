import { readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat: 100 on every Linux this runs on (USER_HZ). */
const TICKS_PER_SECOND = 100;

/** CPU time a process has used, in ms: all of it, and the part spent in the kernel (system calls, page faults). */
export interface ProcessCpu {
  readonly totalMs: number;
  readonly systemMs: number;
}

/** CPU time a process has used; 0 when it is gone. */
export async function processCpu(pid: number): Promise<ProcessCpu> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The command name (field 2) may hold spaces: the fields counted from after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [utime, stime] = [Number(fields[11] ?? 0), Number(fields[12] ?? 0)];
  return { totalMs: ((utime + stime) * 1000) / TICKS_PER_SECOND, systemMs: (stime * 1000) / TICKS_PER_SECOND };
}

const tenths = (n: number) => Math.round(n * 10) / 10;

/**
 * Runs `work` and reports the CPU each group of processes spent meanwhile, in ms per MiB of
 * `mib` (process CPU time, which a busy machine barely moves, unlike wall-clock time), with
 * their sum, and the kernel's part of each (fresh large buffers show there, as page faults).
 */
export async function cpuMsPerMiB<T>(
  groups: Record<string, number[]>,
  mib: number,
  work: () => Promise<T>,
): Promise<{ result: T; cpuMsPerMiB: Record<string, number>; systemMsPerMiB: Record<string, number> }> {
  const used = async () =>
    Object.fromEntries(
      await Promise.all(
        Object.entries(groups).map(async ([name, pids]) => {
          const usage = await Promise.all(pids.map(processCpu));
          const sum = (key: keyof ProcessCpu) => usage.reduce((a, b) => a + b[key], 0);
          return [name, { totalMs: sum('totalMs'), systemMs: sum('systemMs') }] as const;
        }),
      ),
    );
  const before = await used();
  const result = await work();
  const after = await used();
  const perMiB = (key: keyof ProcessCpu) => {
    const groupsPerMiB = Object.fromEntries(
      Object.keys(groups).map((name) => [name, tenths(((after[name]?.[key] ?? 0) - (before[name]?.[key] ?? 0)) / mib)]),
    );
    return { ...groupsPerMiB, total: tenths(Object.values(groupsPerMiB).reduce((a, b) => a + b, 0)) };
  };
  return { result, cpuMsPerMiB: perMiB('totalMs'), systemMsPerMiB: perMiB('systemMs') };
}
