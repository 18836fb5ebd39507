import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  deleteRedisKeys,
  findFreePortRange,
  testRedisClient,
  testRedisSettings,
  testServerUrl,
  waitFor,
} from '@cloudstore/testing';
import { dropDatabase } from '@cloudstore/database';
import { clusterPkiFiles, type InternalTransport, loadInternalTransport } from '@cloudstore/grpc';

export const CLUSTER_CLI = join(__dirname, '../../../dist/tools/local-cluster/src/main.js');
/** Internal services serve /metrics this far above their gRPC port. */
export const METRICS_PORT_OFFSET = 1000;

/** Ports of one cluster, all free when it was planned. */
export interface ClusterPorts {
  grpc: number;
  http: number;
  auth: number;
  metadata: number;
  nodeBase: number;
}

/**
 * `npm start` as a user runs it, minus the build: the local-cluster CLI as a child process with
 * its own ports, database, Redis key prefix and data folder, so that test files never collide.
 */
export class ClusterProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  private constructor(
    readonly env: NodeJS.ProcessEnv,
    readonly ports: ClusterPorts,
    readonly dataDir: string,
  ) {
    this.child = spawn(process.execPath, [CLUSTER_CLI], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.lines.push(line));
    }
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Plans ports and storage for a cluster and starts it; `overrides` may break anything on purpose. */
  static async start(overrides: NodeJS.ProcessEnv = {}, storageNodes = 3): Promise<ClusterProcess> {
    const base = await findFreePortRange(6 + storageNodes, [METRICS_PORT_OFFSET]);
    const ports: ClusterPorts = { grpc: base, http: base + 1, auth: base + 2, metadata: base + 3, nodeBase: base + 6 };
    const dataDir = await mkdtemp(join(tmpdir(), 'cloudstore-e2e-'));
    const database = new URL(testServerUrl());
    database.pathname = `/cloudstore_e2e_${randomBytes(5).toString('hex')}`;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.toString(),
      // The Redis tests use (REDIS_URL, and REDIS_CA_FILE for rediss://), unless overridden.
      ...testRedisSettings(),
      REDIS_KEY_PREFIX: `e2e${randomBytes(5).toString('hex')}`,
      DATA_DIR: dataDir,
      GRPC_PORT: String(ports.grpc),
      HTTP_PORT: String(ports.http),
      AUTH_PORT: String(ports.auth),
      METADATA_PORT: String(ports.metadata),
      STORAGE_NODE_BASE_PORT: String(ports.nodeBase),
      STORAGE_NODES: String(storageNodes),
      METRICS_PORT_OFFSET: String(METRICS_PORT_OFFSET),
      ...overrides,
    };
    return new ClusterProcess(env, ports, dataDir);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The REST port: https when the cluster was given PUBLIC_TLS_*. */
  get httpUrl(): string {
    return `${this.env['PUBLIC_TLS_CERT_FILE'] ? 'https' : 'http'}://127.0.0.1:${this.ports.http}`;
  }

  /** Sends `signal` to the CLI itself (SIGHUP: it has the gateway reload its certificate). */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  get output(): string {
    return this.lines.join('\n');
  }

  /** Dials the cluster's internal ports as service `name` would, with its certificate from the cluster's dev PKI. */
  internalTransport(name = 'gateway'): Promise<InternalTransport> {
    return loadInternalTransport({ INTERNAL_TLS: 'on', ...clusterPkiFiles(join(this.dataDir, 'pki'), name) }, () => undefined);
  }

  nodeAddress(i: number): string {
    return `127.0.0.1:${this.ports.nodeBase + i}`;
  }

  /** The pid the CLI last reported for a service ("node-1 started (pid 1234)"). */
  pidOf(name: string): number | undefined {
    const pattern = new RegExp(`^cloudstore: ${name} started \\(pid (\\d+)\\)$`);
    const line = [...this.lines].reverse().find((l) => pattern.test(l));
    return line ? Number(pattern.exec(line)?.[1]) : undefined;
  }

  /** Every service pid the CLI has reported. */
  allReportedPids(): number[] {
    return this.lines.flatMap((l) => /^cloudstore: \S+ started \(pid (\d+)\)$/.exec(l)?.[1] ?? []).map(Number);
  }

  async waitForLine(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    return waitFor(`a line matching ${pattern}`, () => this.lines.find((l) => pattern.test(l)) ?? false, timeoutMs, 100).catch(
      (error: Error) => {
        throw new Error(`${error.message}\n--- cluster output ---\n${this.output.slice(-5000)}`);
      },
    );
  }

  async waitUntilReady(timeoutMs = 90_000): Promise<void> {
    await this.waitForLine(/^cloudstore: ready: /, timeoutMs);
  }

  /** Ctrl-C, then waits for the CLI to exit; resolves with its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  /**
   * Stops the cluster and starts it again on the same ports, database and data, its variables
   * changed by `changes` (undefined removes one), as an operator restarts with a new configuration.
   */
  async restart(changes: NodeJS.ProcessEnv): Promise<ClusterProcess> {
    await this.stop();
    const restarted = new ClusterProcess({ ...this.env, ...changes }, this.ports, this.dataDir);
    await restarted.waitUntilReady();
    return restarted;
  }

  /** Stops everything and removes the cluster's database, Redis keys and data. */
  async destroy(): Promise<void> {
    await this.stop();
    await dropDatabase(String(this.env['DATABASE_URL'])).catch(() => undefined);
    // A cluster that never reached its Redis (a test of that) left no keys there.
    const redis = testRedisClient(
      { REDIS_URL: String(this.env['REDIS_URL']), REDIS_CA_FILE: this.env['REDIS_CA_FILE'] },
      { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null },
    );
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      await deleteRedisKeys(redis, String(this.env['REDIS_KEY_PREFIX']));
    } catch {
      // Nothing to delete where nothing answers.
    } finally {
      if (redis.status !== 'end') redis.disconnect();
    }
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
