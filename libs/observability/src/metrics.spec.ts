import type { AddressInfo, Server } from 'node:net';
import { HealthMonitor } from './health';
import { createLogger } from './logger';
import { Metrics, startMetricsServer } from './metrics';

describe(startMetricsServer.name, () => {
  let postgresDown: Error | undefined;
  let health: HealthMonitor;
  let sut: Server;

  beforeEach(async () => {
    postgresDown = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    health = new HealthMonitor(
      ['Svc'],
      [
        { name: 'postgres', check: () => (postgresDown ? Promise.reject(postgresDown) : Promise.resolve()) },
        { name: 'redis', check: () => Promise.resolve() },
      ],
      createLogger('probe-test', 'silent'),
    );
    sut = await startMetricsServer(new Metrics('probe-test'), health, 0, '127.0.0.1');
  });

  afterEach(async () => {
    health.stop();
    await new Promise((resolve) => sut.close(resolve));
  });

  async function get(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${(sut.address() as AddressInfo).port}${path}`);
    return { status: res.status, body: await res.text() };
  }

  it('answers /healthz 200 whatever the dependencies say, before, while and after they fail, and while stopping', async () => {
    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok\n' });
    await health.start();
    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok\n' });
    health.stop();
    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok\n' });
  });

  it('answers /readyz with the dependencies: 503 naming the one that fails, 200 once all answer', async () => {
    expect((await get('/readyz')).status).toBe(503);
    await health.start();
    const down = await get('/readyz');
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body)).toEqual({
      status: 'not_ready',
      failed: ['postgres'],
      checks: { postgres: { status: 'down', error: 'connect ECONNREFUSED 127.0.0.1:5432' }, redis: { status: 'up' } },
    });
    postgresDown = undefined;
    await health.refresh();
    const up = await get('/readyz');
    expect(up.status).toBe(200);
    expect(JSON.parse(up.body)).toEqual({
      status: 'ready',
      failed: [],
      checks: { postgres: { status: 'up' }, redis: { status: 'up' } },
    });
  });

  it('answers /readyz 503 from the moment the process stops, even when a check passes after', async () => {
    postgresDown = undefined;
    await health.start();
    expect((await get('/readyz')).status).toBe(200);
    health.stop();
    await health.refresh();
    const stopping = await get('/readyz');
    expect(stopping.status).toBe(503);
    expect(JSON.parse(stopping.body)).toMatchObject({ status: 'not_ready', stopping: true });
  });

  it('serves /metrics, and nothing else', async () => {
    expect(await get('/metrics')).toMatchObject({ status: 200, body: expect.stringContaining('process_cpu_user_seconds_total') });
    expect(await get('/other')).toEqual({ status: 404, body: 'not found\n' });
  });
});
