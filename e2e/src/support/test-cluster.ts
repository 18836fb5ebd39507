import { Client } from 'pg';
import { publicGrpcClient, RestClient } from './api-clients';
import { signInAs, type TestUser } from './accounts';
import { ClusterProcess } from './cluster-process';
import { SmtpSink } from './smtp-sink';

/**
 * A running cluster and what a suite talks to it with: an SMTP sink that receives its mail
 * (the sign-in codes), REST and gRPC clients, and SQL on its database to look behind the API.
 */
/** An admin account created at start from ADMIN_USERNAME, ADMIN_EMAIL and ADMIN_PASSWORD. */
export interface AdminAccount {
  readonly username: string;
  readonly email: string;
  readonly password: string;
}

export class TestCluster {
  /** The admin account of `options.admin`, signed in; only for a cluster started with one. */
  admin!: TestUser;

  private constructor(
    readonly smtp: SmtpSink,
    readonly cluster: ClusterProcess,
    readonly rest: RestClient,
    readonly grpc: ReturnType<typeof publicGrpcClient>,
    readonly pg: Client,
  ) {}

  /**
   * Starts the cluster with these variables on top of its own, and waits until it is ready. With
   * `admin`, that account is created at start (ADMIN_*) and signed in as `admin`.
   */
  static async start(env: Record<string, string>, options: { admin?: AdminAccount } = {}): Promise<TestCluster> {
    const smtp = await SmtpSink.start();
    const admin = options.admin;
    const cluster = await ClusterProcess.start({
      SMTP_URL: smtp.url,
      ...(admin ? { ADMIN_USERNAME: admin.username, ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } : {}),
      ...env,
    });
    await cluster.waitUntilReady();
    const pg = new Client({ connectionString: String(cluster.env['DATABASE_URL']) });
    await pg.connect();
    const started = new TestCluster(
      smtp,
      cluster,
      new RestClient(cluster.httpUrl),
      publicGrpcClient(`127.0.0.1:${cluster.ports.grpc}`),
      pg,
    );
    if (admin) started.admin = await signInAs(started.rest, smtp, admin);
    return started;
  }

  /**
   * The one setup of an e2e file: a cluster started before its tests and stopped after them.
   * Read its parts (`env.rest`, `env.admin`, …) inside hooks and tests, once it has started.
   */
  static perFile(env: Record<string, string>, options: { admin?: AdminAccount } = {}): TestCluster {
    let started: TestCluster | undefined;
    beforeAll(async () => {
      started = await TestCluster.start(env, options);
    });
    afterAll(() => started?.close());
    return new Proxy({} as TestCluster, {
      get(_, key) {
        if (!started) throw new Error(`the cluster has not started: read env.${String(key)} in a hook or test`);
        const value: unknown = Reflect.get(started, key);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(started) : value;
      },
    });
  }

  async close(): Promise<void> {
    await this.pg.end();
    this.grpc.close();
    await this.cluster.destroy();
    await this.smtp.close();
  }
}
