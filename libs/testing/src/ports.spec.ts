import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { findFreePortRange } from './ports';

async function listen(port: number): Promise<Server> {
  const server = createServer().listen(port, '0.0.0.0');
  await once(server, 'listening');
  return server;
}

describe(findFreePortRange.name, () => {
  const servers: Server[] = [];

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('gives a range, and the same range at each offset, that can all be listened on', async () => {
    const base = await findFreePortRange(3, [100], 21_000, 29_000);
    expect(base).toBeGreaterThanOrEqual(21_000);
    expect(base + 100 + 2).toBeLessThan(29_100);
    for (const port of [base, base + 1, base + 2, base + 100, base + 101, base + 102]) servers.push(await listen(port));
  });

  it('never hands out a port that is taken', async () => {
    // A window of three ports of which the middle one is taken: only the first fits a single port.
    const taken = await findFreePortRange(1, [], 23_000, 28_000);
    servers.push(await listen(taken));
    for (let i = 0; i < 20; i += 1) {
      const base = await findFreePortRange(1, [], taken - 1, taken + 2);
      expect(base).not.toBe(taken);
    }
  });

  it('says so when no range is free', async () => {
    const taken = await findFreePortRange(1, [], 23_000, 28_000);
    servers.push(await listen(taken));
    await expect(findFreePortRange(1, [], taken, taken + 2)).rejects.toThrow(
      `no 1 consecutive free ports between ${taken} and ${taken + 2}`,
    );
  });
});
