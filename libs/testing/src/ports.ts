import { createServer } from 'node:net';

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/**
 * A base port such that `base` … `base + count - 1` are all free now (and the same ports shifted
 * by each of `alsoAtOffsets`), chosen at random below the range the OS hands out to outgoing
 * connections, so parallel test runs do not collide.
 */
export async function findFreePortRange(
  count: number,
  alsoAtOffsets: number[] = [],
  min = 20_000,
  max = 30_000,
): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const base = min + Math.floor(Math.random() * (max - min - count));
    const ports = [0, ...alsoAtOffsets].flatMap((offset) => Array.from({ length: count }, (_, i) => base + offset + i));
    const checks = await Promise.all(ports.map(isFree));
    if (checks.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports between ${min} and ${max}`);
}
