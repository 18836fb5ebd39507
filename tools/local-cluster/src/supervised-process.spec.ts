import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CODE_BAD_CONFIG } from '@cloudstore/config';
import { waitFor } from '@cloudstore/testing';
import { SupervisedProcess, type SupervisorEvents } from './supervised-process';

/** Every event the supervisor reports, in order. */
function recorder() {
  const log: string[] = [];
  const restarts: number[] = [];
  const events: SupervisorEvents = {
    output: (name, line, stream) => log.push(`${name} ${stream}: ${line}`),
    exited: (name, reason, restartInMs) => {
      log.push(`${name} ${reason}`);
      if (restartInMs !== undefined) restarts.push(restartInMs);
    },
    started: (name) => log.push(`${name} started`),
    fatal: (name, reason) => log.push(`${name} fatal: ${reason}`),
  };
  return { events, log, restarts };
}

describe(SupervisedProcess.name, () => {
  let dir: string;
  const running: SupervisedProcess[] = [];

  async function script(name: string, source: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, source);
    return file;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cloudstore-supervisor-'));
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop(1000)));
    await rm(dir, { recursive: true, force: true });
  });

  it('passes the environment on and prefixes each output line with the name', async () => {
    const { events, log } = recorder();
    const sut = new SupervisedProcess(
      {
        name: 'svc',
        script: await script(
          'echo.js',
          `console.log('hello ' + process.env.GREETING); console.error('oops'); setInterval(() => {}, 1000);`,
        ),
        env: { GREETING: 'world' },
      },
      events,
    );
    running.push(sut);
    sut.start();
    await waitFor('both lines', () => log.length >= 3, 10_000, 20);
    expect(log).toEqual(expect.arrayContaining(['svc started', 'svc stdout: hello world', 'svc stderr: oops']));
    expect(sut.running).toBe(true);
  });

  it('restarts a process that dies, with a doubling backoff', async () => {
    const { events, log, restarts } = recorder();
    const sut = new SupervisedProcess({ name: 'crashy', script: await script('crash.js', 'process.exit(3);'), env: {} }, events);
    running.push(sut);
    sut.start();
    await waitFor('two restarts', () => restarts.length >= 2, 10_000, 20);
    expect(restarts.slice(0, 2)).toEqual([500, 1000]);
    expect(log.filter((l) => l === 'crashy started').length).toBeGreaterThanOrEqual(2);
    expect(log).toContain('crashy exited with code 3');
  });

  it('does not restart a process that exits with a bad configuration', async () => {
    const { events, log, restarts } = recorder();
    const sut = new SupervisedProcess(
      { name: 'misconfigured', script: await script('bad-config.js', `process.exit(${EXIT_CODE_BAD_CONFIG});`), env: {} },
      events,
    );
    running.push(sut);
    sut.start();
    await waitFor('the fatal report', () => log.some((l) => l.startsWith('misconfigured fatal')), 10_000, 20);
    expect(log).toContain(`misconfigured fatal: exited with code ${EXIT_CODE_BAD_CONFIG}`);
    expect(restarts).toEqual([]);
    expect(sut.running).toBe(false);
  });

  it('stops gracefully with SIGTERM and does not restart what it stopped', async () => {
    const { events, log, restarts } = recorder();
    const sut = new SupervisedProcess(
      {
        name: 'graceful',
        script: await script(
          'graceful.js',
          `process.on('SIGTERM', () => { console.log('bye'); process.exit(0); }); console.log('up'); setInterval(() => {}, 1000);`,
        ),
        env: {},
      },
      events,
    );
    sut.start();
    await waitFor('the process to be up', () => log.includes('graceful stdout: up'), 10_000, 20);
    await sut.stop(5000);
    expect(sut.running).toBe(false);
    await waitFor('its last line', () => log.includes('graceful stdout: bye'), 2000, 20);
    expect(restarts).toEqual([]);
  });

  it('kills with SIGKILL a process that ignores SIGTERM past the grace time', async () => {
    const { events, log } = recorder();
    const sut = new SupervisedProcess(
      {
        name: 'stubborn',
        script: await script('stubborn.js', `process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000);`),
        env: {},
      },
      events,
    );
    sut.start();
    await waitFor('the process to be up', () => log.includes('stubborn stdout: up'), 10_000, 20);
    const pid = sut.pid;
    const started = Date.now();
    await sut.stop(300);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(sut.running).toBe(false);
    expect(() => process.kill(pid ?? 0, 0)).toThrow();
  });
});
