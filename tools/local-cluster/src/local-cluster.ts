import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join, resolve } from 'node:path';
import {
  authConfigSchema,
  ConfigError,
  type Env,
  gatewayConfigSchema,
  loadConfig,
  type LocalClusterConfig,
  metadataConfigSchema,
  storageNodeConfigSchema,
} from '@cloudstore/config';
import { NODE_REGISTRY_SERVICE, type nodeRegistryApi } from '@cloudstore/contracts';
import { clusterPkiFiles, ensureClusterPki, GrpcServiceClient, loadInternalTransport } from '@cloudstore/grpc';
import { type ProcessSpec, SupervisedProcess, type SupervisorEvents } from './supervised-process';

/** Where a service of the local cluster listens. */
export interface ServiceEndpoint {
  readonly name: string;
  readonly kind: 'gateway' | 'auth' | 'metadata' | 'storage-node';
  readonly grpcAddress: string;
  readonly httpUrl?: string;
  readonly metricsUrl?: string;
  readonly dataDir?: string;
}

export interface ReadinessReport {
  /** Storage nodes the registry holds up, and all it knows. */
  readonly nodesUp: number;
  readonly nodesTotal: number;
}

const DIST_ROOT = resolve(__dirname, '../../..');

function script(app: string): string {
  return resolve(DIST_ROOT, 'apps', app, 'src', 'main.js');
}

/**
 * The status code of GET `url`. Over https the certificate is not checked: it names the public
 * host, not 127.0.0.1, and this probe of our own child over loopback sends nothing secret.
 */
function statusOf(url: string, timeoutMs: number): Promise<number> {
  const get = url.startsWith('https:') ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/**
 * The whole cluster as local processes, wired like docker-compose wires containers: gateway,
 * auth, metadata, and STORAGE_NODES storage nodes, each on its own port, talking gRPC.
 */
export class LocalCluster {
  readonly endpoints: ServiceEndpoint[] = [];
  readonly processes: SupervisedProcess[] = [];
  /** The dev PKI folder, when this cluster issues its own certificates (INTERNAL_TLS on, no files given). */
  readonly pkiDir: string | undefined;

  constructor(
    readonly config: LocalClusterConfig,
    baseEnv: Env,
    events: SupervisorEvents,
  ) {
    const dataDir = resolve(config.DATA_DIR);
    const common: Env = {
      ...baseEnv,
      DATA_DIR: dataDir,
      AUTH_PORT: String(config.AUTH_PORT),
      METADATA_PORT: String(config.METADATA_PORT),
      AUTH_ADDRESS: `127.0.0.1:${config.AUTH_PORT}`,
      METADATA_ADDRESS: `127.0.0.1:${config.METADATA_PORT}`,
    };
    const filesGiven = [config.INTERNAL_CA_FILE, config.INTERNAL_CERT_FILE, config.INTERNAL_KEY_FILE].some(
      (f) => f !== undefined,
    );
    this.pkiDir = config.INTERNAL_TLS === 'on' && !filesGiven ? join(dataDir, 'pki') : undefined;
    // Each service gets its own certificate, which names it.
    const tls = (name: string): Env => (this.pkiDir ? clusterPkiFiles(this.pkiDir, name) : {});
    const metricsPort = (port: number) => (config.METRICS_PORT_OFFSET > 0 ? port + config.METRICS_PORT_OFFSET : 0);
    const add = (spec: ProcessSpec, endpoint: ServiceEndpoint, validate: (env: Env) => unknown) => {
      try {
        validate(spec.env);
      } catch (error) {
        if (error instanceof ConfigError) throw new ConfigError(`${spec.name}: ${error.message}`);
        throw error;
      }
      this.endpoints.push(endpoint);
      this.processes.push(new SupervisedProcess(spec, events));
    };
    const withMetrics = (port: number) => {
      const m = metricsPort(port);
      return { env: { METRICS_PORT: String(m) }, url: m ? `http://127.0.0.1:${m}/metrics` : undefined };
    };

    const metadataMetrics = withMetrics(config.METADATA_PORT);
    add(
      { name: 'metadata', script: script('metadata'), env: { ...common, ...tls('metadata'), ...metadataMetrics.env } },
      { name: 'metadata', kind: 'metadata', grpcAddress: `127.0.0.1:${config.METADATA_PORT}`, metricsUrl: metadataMetrics.url },
      (env) => loadConfig(metadataConfigSchema, env),
    );
    const authMetrics = withMetrics(config.AUTH_PORT);
    add(
      { name: 'auth', script: script('auth'), env: { ...common, ...tls('auth'), ...authMetrics.env } },
      { name: 'auth', kind: 'auth', grpcAddress: `127.0.0.1:${config.AUTH_PORT}`, metricsUrl: authMetrics.url },
      (env) => loadConfig(authConfigSchema, env),
    );
    for (let i = 0; i < config.STORAGE_NODES; i += 1) {
      const nodeId = `node-${i}`;
      const port = config.STORAGE_NODE_BASE_PORT + i;
      const nodeMetrics = withMetrics(port);
      add(
        {
          name: nodeId,
          script: script('storage-node'),
          env: {
            ...common,
            ...tls(nodeId),
            ...nodeMetrics.env,
            STORAGE_NODE_ID: nodeId,
            STORAGE_NODE_PORT: String(port),
            STORAGE_NODE_ADDRESS: `127.0.0.1:${port}`,
          },
        },
        {
          name: nodeId,
          kind: 'storage-node',
          grpcAddress: `127.0.0.1:${port}`,
          metricsUrl: nodeMetrics.url,
          dataDir: resolve(dataDir, 'nodes', nodeId),
        },
        (env) => loadConfig(storageNodeConfigSchema, env),
      );
    }
    add(
      {
        name: 'gateway',
        script: script('gateway'),
        env: { ...common, ...tls('gateway'), GRPC_PORT: String(config.GRPC_PORT), HTTP_PORT: String(config.HTTP_PORT) },
      },
      {
        name: 'gateway',
        kind: 'gateway',
        grpcAddress: `127.0.0.1:${config.GRPC_PORT}`,
        httpUrl: this.gatewayUrl,
        metricsUrl: `${this.gatewayUrl}/metrics`,
      },
      (env) => loadConfig(gatewayConfigSchema, env),
    );
  }

  /** The names of the services, as their certificates name them: gateway, auth, metadata, node-<i>. */
  get serviceNames(): string[] {
    return this.processes.map((p) => p.spec.name);
  }

  /**
   * Creates, once, the dev PKI the services' certificates come from (nothing when INTERNAL_TLS
   * is off or files are given), and for `moreNames` (nodes named otherwise elsewhere, as in
   * Kubernetes). Returns the files it created; what exists is kept.
   */
  async ensurePki(moreNames: readonly string[] = []): Promise<string[]> {
    return this.pkiDir ? ensureClusterPki(this.pkiDir, [...this.serviceNames, ...moreNames]) : [];
  }

  /** The REST port: https when the gateway serves public TLS (PUBLIC_TLS_*). */
  get gatewayUrl(): string {
    return `${this.config.PUBLIC_TLS_CERT_FILE ? 'https' : 'http'}://127.0.0.1:${this.config.HTTP_PORT}`;
  }

  /** SIGHUP to the gateway: it re-reads its public TLS certificate, open connections go on. */
  reloadGatewayCertificate(): void {
    this.process('gateway').kill('SIGHUP');
  }

  process(name: string): SupervisedProcess {
    const found = this.processes.find((p) => p.spec.name === name);
    if (!found) throw new Error(`no process named ${name}`);
    return found;
  }

  start(): void {
    for (const p of this.processes) p.start();
  }

  /**
   * Resolves once the gateway's /readyz is green and every storage node is up in the registry
   * (or, after `allNodesGraceMs`, at least one); rejects after `timeoutMs`. The public /readyz
   * says only ready or not, so the nodes are counted by asking the metadata service's registry,
   * over internal gRPC with the gateway's credentials (this process issued them).
   */
  async waitUntilReady(timeoutMs: number, allNodesGraceMs = 20_000): Promise<ReadinessReport> {
    const started = Date.now();
    let last = 'no answer yet';
    let registry: GrpcServiceClient<nodeRegistryApi.NodeRegistryServiceClient> | undefined;
    try {
      while (Date.now() - started < timeoutMs) {
        try {
          const status = await statusOf(`${this.gatewayUrl}/readyz`, 3000);
          if (status === 200) {
            registry ??= await this.nodeRegistryClient();
            const { nodes } = await registry.call('listNodes', {}, { timeoutMs: 3000 });
            const report = { nodesUp: nodes.filter((n) => n.status === 'up').length, nodesTotal: nodes.length };
            const allUp = report.nodesUp === this.config.STORAGE_NODES;
            if (report.nodesUp > 0 && (allUp || Date.now() - started > allNodesGraceMs)) return report;
            last = `${report.nodesUp}/${this.config.STORAGE_NODES} storage nodes up`;
          } else {
            last = `not ready: /readyz answers ${status}`;
          }
        } catch (error) {
          last = error instanceof Error ? error.message : String(error);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      registry?.close();
    }
    throw new Error(`the cluster was not ready within ${Math.round(timeoutMs / 1000)} s (${last})`);
  }

  private async nodeRegistryClient(): Promise<GrpcServiceClient<nodeRegistryApi.NodeRegistryServiceClient>> {
    const gateway = loadConfig(gatewayConfigSchema, this.process('gateway').spec.env);
    // The gateway warns about INTERNAL_TLS=off itself.
    const transport = await loadInternalTransport(gateway, () => undefined);
    return new GrpcServiceClient(NODE_REGISTRY_SERVICE, gateway.METADATA_ADDRESS, transport, 3000);
  }

  /** Stops every process: SIGTERM, then SIGKILL for any still running after `graceMs`. */
  async stop(graceMs = 8000): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop(graceMs)));
  }
}
