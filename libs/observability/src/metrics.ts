import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

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

/** A bare HTTP listener with `/metrics`, for services that have no public HTTP port. */
export async function startMetricsServer(metrics: Metrics, port: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
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
