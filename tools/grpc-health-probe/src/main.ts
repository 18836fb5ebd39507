import { probe } from './probe';

/**
 * Container health check for the gRPC services:
 *   node dist/tools/grpc-health-probe/src/main.js <host:port> [service]
 * exits 0 when grpc.health.v1 answers SERVING, 1 otherwise (2 for bad usage).
 */
void probe(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}).then((code) => process.exit(code));
