import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { HealthMonitor } from './health';
import { readinessHttpStatus } from './readiness';

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * One Prometheus registry per process: default process metrics, labelled with the service,
 * plus the per-RPC and per-route counters and latency histograms every service records.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly grpcHandled: Counter<'grpc_service' | 'grpc_method' | 'grpc_code'>;
  readonly grpcHandlingSeconds: Histogram<'grpc_service' | 'grpc_method'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status_code'>;
  readonly httpRequestSeconds: Histogram<'method' | 'route'>;

  constructor(readonly service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.grpcHandled = new Counter({
      name: 'grpc_server_handled_total',
      help: 'RPCs completed on the server, by method and gRPC status code.',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
      registers: [this.registry],
    });
    this.grpcHandlingSeconds = new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Time from the start of an RPC to its end, by method.',
      labelNames: ['grpc_service', 'grpc_method'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests completed, by route and status code.',
      labelNames: ['method', 'route', 'status_code'],
      registers: [this.registry],
    });
    this.httpRequestSeconds = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from the start of an HTTP request to its end, by route.',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
  }

  /** Prometheus text exposition of everything in the registry. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * A bare HTTP listener for a service that has no public HTTP port: `/metrics`, and the probes of
 * its orchestrator. `/healthz` (liveness) is 200 whenever the process runs and its event loop
 * answers, whatever its dependencies do and while it is stopping: a database outage must not
 * restart every pod. `/readyz` is the `health` report: 200 while it is ready, 503 otherwise, and
 * from the moment the process starts stopping.
 */
export async function startMetricsServer(
  metrics: Metrics,
  health: Pick<HealthMonitor, 'readiness'>,
  port: number,
  host = '0.0.0.0',
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('ok\n');
      return;
    }
    if (req.method === 'GET' && path === '/readyz') {
      const readiness = health.readiness;
      res
        .writeHead(readinessHttpStatus(readiness), { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(readiness));
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      metrics.render().then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType });
          res.end(body);
        },
        () => {
          res.writeHead(500).end();
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
