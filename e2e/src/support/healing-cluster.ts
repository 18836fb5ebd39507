import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RedisServer, waitFor } from '@cloudstore/testing';
import { Client } from 'pg';
import { RestClient } from './api-clients';
import { signInAs, signUp, type TestUser } from './accounts';
import { ClusterProcess } from './cluster-process';
import { restUpload, sha256 } from './file-transfers';

import { SmtpSink } from './smtp-sink';

export interface ClusterStatus {
  nodes: { node_id: string; status: string; chunk_count: number }[];
  under_replicated_chunks: number;
  jobs: { waiting: number; active: number; failed: number; completed: number };
}

const ADMIN = { username: 'heal_admin', email: 'heal_admin@example.com', password: 'Admin-Passw0rd-2026!' };

/** Fast failure detection and repair, so that fault suites settle in seconds. */
const FAST_HEALING: NodeJS.ProcessEnv = {
  NODE_DOWN_AFTER_SECONDS: '6',
  HEARTBEAT_INTERVAL_SECONDS: '1',
  REPLICATION_CHECK_INTERVAL_SECONDS: '2',
  REBALANCE_INTERVAL_SECONDS: '0',
};

/**
 * A cluster for fault tests: its own Redis (to restart) and SMTP sink, fast healing, an admin
 * and a user with files whose bytes the test keeps, and SQL on its database to look behind the API.
 */
export class HealingCluster {
  readonly files = new Map<string, Buffer>();

  private constructor(
    readonly smtp: SmtpSink,
    readonly redis: RedisServer,
    readonly cluster: ClusterProcess,
    readonly rest: RestClient,
    readonly admin: TestUser,
    readonly user: TestUser,
    readonly pg: Client,
  ) {}

  static async start(env: NodeJS.ProcessEnv, storageNodes: number): Promise<HealingCluster> {
    const smtp = await SmtpSink.start();
    const redis = await RedisServer.start();
    const cluster = await ClusterProcess.start(
      {
        SMTP_URL: smtp.url,
        REDIS_URL: redis.url,
        ADMIN_USERNAME: ADMIN.username,
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        ...FAST_HEALING,
        ...env,
      },
      storageNodes,
    );
    await cluster.waitUntilReady();
    const rest = new RestClient(cluster.httpUrl);
    const admin = await signInAs(rest, smtp, ADMIN);
    const user = await signUp(rest, smtp, 'heal');
    const pg = new Client({ connectionString: String(cluster.env['DATABASE_URL']) });
    await pg.connect();
    return new HealingCluster(smtp, redis, cluster, rest, admin, user, pg);
  }

  async close(): Promise<void> {
    await this.pg.end();
    await this.cluster.destroy();
    await this.redis.destroy();
    await this.smtp.close();
  }

  /** Uploads as the user and remembers the bytes. */
  async upload(name: string, data: Buffer): Promise<string> {
    const fileId = await restUpload(this.cluster.httpUrl, this.user.token, name, data);
    this.files.set(fileId, data);
    return fileId;
  }

  /** The whole file as the user reads it over REST; any status but 200 throws with the answer. */
  async download(fileId: string): Promise<Buffer> {
    const res = await fetch(`${this.cluster.httpUrl}/v1/files/${fileId}/content`, {
      headers: { authorization: `Bearer ${this.user.token}` },
    });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`download ${fileId}: ${res.status} ${body.toString()}`);
    return body;
  }

  /** The files the test uploaded that do not read back whole, byte for byte, each with why: [] when all do. */
  async unreadableFiles(): Promise<string[]> {
    const problems: string[] = [];
    for (const [fileId, data] of this.files) {
      const back = await this.download(fileId).catch((error: Error) => error);
      if (back instanceof Error) problems.push(back.message);
      else if (sha256(back) !== sha256(data)) problems.push(`${fileId}: other bytes than uploaded`);
    }
    return problems;
  }

  async status(): Promise<ClusterStatus> {
    return (await this.rest.get<ClusterStatus>('/v1/admin/cluster', this.admin.token)).body;
  }

  /** No chunk under its target and no job waiting or running (maintenance included). */
  async fullyReplicated(timeoutMs = 120_000): Promise<ClusterStatus> {
    return waitFor(
      'no under-replicated chunk',
      async () => {
        const s = await this.status();
        return s.under_replicated_chunks === 0 && s.jobs.waiting === 0 && s.jobs.active === 0 ? s : undefined;
      },
      timeoutMs,
      500,
    );
  }

  /** Kills a node and wipes its disk; the cluster's supervisor starts it again, on an empty one. */
  async killAndWipe(nodeId: string): Promise<void> {
    process.kill(this.cluster.pidOf(nodeId) as number, 'SIGKILL');
    await rm(join(this.cluster.dataDir, 'nodes', nodeId), { recursive: true, force: true });
  }

  /**
   * Until a wiped node is back, its replicas count for as long as its heartbeats would; once the
   * metadata knows its new disk, they do not.
   */
  async newDiskRegistered(nodeId: string): Promise<void> {
    await waitFor(
      `${nodeId} registered with its new disk`,
      async () => {
        const diskId = await readFile(join(this.cluster.dataDir, 'nodes', nodeId, 'disk-id'), 'utf8').catch(() => undefined);
        const row = await this.pg.query<{ disk_id: string }>('SELECT disk_id FROM metadata.storage_nodes WHERE node_id = $1', [
          nodeId,
        ]);
        return diskId !== undefined && row.rows[0]?.disk_id === diskId.trim();
      },
      60_000,
      200,
    );
  }
}
