import { Client } from 'pg';
import { publicGrpcClient, RestClient } from './api-clients';
import { ClusterProcess } from './cluster-process';
import { SmtpSink } from './smtp-sink';

/**
 * A running cluster and what a suite talks to it with: an SMTP sink that receives its mail
 * (the sign-in codes), REST and gRPC clients, and SQL on its database to look behind the API.
 */
export class TestCluster {
  private constructor(
    readonly smtp: SmtpSink,
    readonly cluster: ClusterProcess,
    readonly rest: RestClient,
    readonly grpc: ReturnType<typeof publicGrpcClient>,
    readonly pg: Client,
  ) {}

  /** Starts the cluster with these variables on top of its own, and waits until it is ready. */
  static async start(env: Record<string, string>): Promise<TestCluster> {
    const smtp = await SmtpSink.start();
    const cluster = await ClusterProcess.start({ SMTP_URL: smtp.url, ...env });
    await cluster.waitUntilReady();
    const pg = new Client({ connectionString: String(cluster.env['DATABASE_URL']) });
    await pg.connect();
    return new TestCluster(
      smtp,
      cluster,
      new RestClient(cluster.httpUrl),
      publicGrpcClient(`127.0.0.1:${cluster.ports.grpc}`),
      pg,
    );
  }

  async close(): Promise<void> {
    await this.pg.end();
    this.grpc.close();
    await this.cluster.destroy();
    await this.smtp.close();
  }
}
