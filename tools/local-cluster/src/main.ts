import { ConfigError, loadConfig, localClusterConfigSchema } from '@cloudstore/config';
import { redactDatabaseUrl } from '@cloudstore/database';
import { redactRedisUrl } from '@cloudstore/redis';
import { resolve } from 'node:path';
import { type EmbeddedDependency, EmbeddedDependencyError, startLocalDependencies, stopAll } from './embedded-dependencies';
import { LocalCluster } from './local-cluster';
import { preflight, PreflightError } from './preflight';

const READY_TIMEOUT_MS = 90_000;

function say(line: string): void {
  process.stdout.write(`cloudstore: ${line}\n`);
}

function fail(line: string, exitCode = 1): never {
  process.stderr.write(`cloudstore: ${line}\n`);
  process.exit(exitCode);
}

/**
 * `npm start`: the whole cluster in the foreground as separate processes, restarted when they
 * die, stopped together on Ctrl-C or SIGTERM.
 */
async function main(): Promise<void> {
  let cluster: LocalCluster;
  // eslint-disable-next-line no-restricted-syntax -- the services inherit the environment, as in docker-compose
  const env: NodeJS.ProcessEnv = { ...process.env };
  let embedded: EmbeddedDependency[] = [];
  const stopEmbedded = () => stopAll(embedded);
  try {
    // With no DATABASE_URL or REDIS_URL and nothing at their local ports, this runs them, so that
    // `npm ci && npm start` works on a machine with Node and the Redis package alone.
    embedded = await startLocalDependencies(env, resolve(loadConfig(localClusterConfigSchema, env).DATA_DIR), say);
    const config = loadConfig(localClusterConfigSchema, env);
    cluster = new LocalCluster(config, env, {
      output: (name, line, stream) =>
        (stream === 'stdout' ? process.stdout : process.stderr).write(`${name.padEnd(9)}| ${line}\n`),
      started: (name, pid) => say(`${name} started (pid ${pid})`),
      exited: (name, reason, restartInMs) => say(`${name} ${reason}; restarting in ${((restartInMs ?? 0) / 1000).toFixed(1)} s`),
      fatal: (name, reason) => {
        say(`${name} ${reason} because of its configuration; stopping the cluster`);
        void shutdown(1);
      },
    });
    await preflight(config.DATABASE_URL, config);
    const created = await cluster.ensurePki();
    if (created.length > 0) say(`created the dev PKI for internal mutual TLS: ${created.length} files in ${cluster.pkiDir}`);
    if (config.INTERNAL_TLS === 'off')
      say('WARNING: INTERNAL_TLS=off: internal gRPC is plaintext and unauthenticated (debugging only)');
  } catch (error) {
    await stopEmbedded();
    if (error instanceof ConfigError || error instanceof PreflightError || error instanceof EmbeddedDependencyError)
      fail(error.message);
    throw error;
  }

  let stopping = false;
  async function shutdown(exitCode: number): Promise<void> {
    if (stopping) return;
    stopping = true;
    say('stopping all services…');
    await cluster.stop(8000);
    await stopEmbedded();
    say('stopped');
    process.exit(exitCode);
  }
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  // As a pod's certificate renewal would: the gateway re-reads PUBLIC_TLS_* without dropping connections.
  process.on('SIGHUP', () => {
    say('SIGHUP: the gateway re-reads its public TLS certificate');
    cluster.reloadGatewayCertificate();
  });

  const { config } = cluster;
  say(
    `starting ${cluster.processes.length} processes (PostgreSQL ${redactDatabaseUrl(config.DATABASE_URL)}, Redis ${redactRedisUrl(config.REDIS_URL)})`,
  );
  for (const e of cluster.endpoints) {
    const parts = [`gRPC ${e.grpcAddress}`];
    if (e.httpUrl) parts.push(`REST ${e.httpUrl} (OpenAPI ${e.httpUrl}/docs)`);
    if (e.metricsUrl) parts.push(`metrics ${e.metricsUrl}`);
    if (e.dataDir) parts.push(`data ${e.dataDir}`);
    say(`  ${e.name.padEnd(9)} ${parts.join('  ')}`);
  }
  cluster.start();
  try {
    const report = await cluster.waitUntilReady(READY_TIMEOUT_MS);
    say(
      `ready: REST ${cluster.gatewayUrl}, gRPC 127.0.0.1:${config.GRPC_PORT}${config.PUBLIC_TLS_CERT_FILE ? ' (TLS)' : ''}, ${report.nodesUp}/${config.STORAGE_NODES} storage nodes up (Ctrl-C stops all)`,
    );
  } catch (error) {
    if (!stopping) say(`${(error as Error).message}; still trying, see the logs above`);
  }
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
