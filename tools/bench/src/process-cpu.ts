import { readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat: 100 on every Linux this runs on (USER_HZ). */
const TICKS_PER_SECOND = 100;

/** CPU time a process has used (user + system), in ms; 0 when it is gone. */
export async function processCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The command name (field 2) may hold spaces: the fields counted from after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [utime, stime] = [Number(fields[11] ?? 0), Number(fields[12] ?? 0)];
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}

/**
 * Runs `work` and reports the CPU each group of processes spent meanwhile, in ms per MiB of
 * `mib` (process CPU time, which a busy machine barely moves, unlike wall-clock time).
 */
export async function cpuMsPerMiB<T>(
  groups: Record<string, number[]>,
  mib: number,
  work: () => Promise<T>,
): Promise<{ result: T; cpuMsPerMiB: Record<string, number> }> {
  const used = async () =>
    Object.fromEntries(
      await Promise.all(
        Object.entries(groups).map(
          async ([name, pids]) => [name, (await Promise.all(pids.map(processCpuMs))).reduce((a, b) => a + b, 0)] as const,
        ),
      ),
    );
  const before = await used();
  const result = await work();
  const after = await used();
  const perMiB = Object.fromEntries(
    Object.keys(groups).map((name) => [name, Math.round((((after[name] ?? 0) - (before[name] ?? 0)) / mib) * 10) / 10]),
  );
  const total = Object.values(perMiB).reduce((a, b) => a + b, 0);
  return { result, cpuMsPerMiB: { ...perMiB, total: Math.round(total * 10) / 10 } };
}
