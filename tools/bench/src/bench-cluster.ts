import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commonVars, loadConfig, localClusterConfigSchema } from '@cloudstore/config';
import { dropDatabase } from '@cloudstore/database';
import { LocalCluster, preflight } from '@cloudstore/local-cluster';
import { z } from 'zod';

/**
 * The whole cluster as local processes on free ports, with its own database, Redis key prefix
 * and data folder: the same processes `npm start` runs, measured from outside.
 */
export class BenchCluster {
  private constructor(
    readonly cluster: LocalCluster,
    readonly env: Record<string, string>,
    private readonly dataDir: string,
  ) {}

  static async start(basePort: number, overrides: Record<string, string> = {}): Promise<BenchCluster> {
    const { DATABASE_URL, REDIS_URL } = loadConfig(
      z.object({ DATABASE_URL: commonVars.DATABASE_URL, REDIS_URL: commonVars.REDIS_URL }),
    );
    const database = new URL(DATABASE_URL);
    database.pathname = `/cloudstore_bench_${randomBytes(4).toString('hex')}`;
    const dataDir = await mkdtemp(join(tmpdir(), 'cloudstore-bench-'));
    const env: Record<string, string> = {
      // eslint-disable-next-line no-restricted-syntax -- the services inherit the environment, as under npm start
      ...(process.env as Record<string, string>),
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.toString(),
      REDIS_URL,
      REDIS_KEY_PREFIX: `bench${randomBytes(4).toString('hex')}`,
      DATA_DIR: dataDir,
      GRPC_PORT: String(basePort),
      HTTP_PORT: String(basePort + 1),
      AUTH_PORT: String(basePort + 2),
      METADATA_PORT: String(basePort + 3),
      STORAGE_NODE_BASE_PORT: String(basePort + 10),
      METRICS_PORT_OFFSET: '0',
      IP_MAX_ATTEMPTS: '1000000',
      OTP_MAILS_PER_ACCOUNT: '1000',
      ...overrides,
    };
    const config = loadConfig(localClusterConfigSchema, env);
    await preflight(config.DATABASE_URL, config);
    const cluster = new LocalCluster(config, env, {
      output: (name, line, stream) => {
        if (stream === 'stderr') process.stderr.write(`${name} | ${line}\n`);
      },
      started: () => undefined,
      exited: (name, reason) => process.stderr.write(`bench: ${name} ${reason}\n`),
      fatal: (name, reason) => process.stderr.write(`bench: ${name} ${reason}\n`),
    });
    await cluster.ensurePki();
    cluster.start();
    await cluster.waitUntilReady(90_000);
    return new BenchCluster(cluster, env, dataDir);
  }

  get httpUrl(): string {
    return this.cluster.gatewayUrl;
  }

  get grpcAddress(): string {
    return `127.0.0.1:${this.cluster.config.GRPC_PORT}`;
  }

  async stop(): Promise<void> {
    await this.cluster.stop();
    await dropDatabase(this.env['DATABASE_URL'] ?? '').catch(() => undefined);
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
