import { checkGrpcHealth } from '@cloudstore/grpc';

/**
 * Container health check for the gRPC services:
 *   node dist/tools/grpc-health-probe/src/main.js <host:port> [service]
 * exits 0 when grpc.health.v1 answers SERVING, 1 otherwise.
 */
const [address, service = ''] = process.argv.slice(2);
if (!address) {
  process.stderr.write('usage: grpc-health-probe <host:port> [service]\n');
  process.exit(2);
}
checkGrpcHealth(address, service, 3000).then(
  (status) => {
    process.stdout.write(`${address}: ${status}\n`);
    process.exit(status === 'SERVING' ? 0 : 1);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
