import { awaitConfigOrExit, healthProbeConfigSchema, loadConfigOrExit } from '@cloudstore/config';
import { loadInternalTransport } from '@cloudstore/grpc';
import { probe } from './probe';

/**
 * Container health check for the gRPC services:
 *   node dist/tools/grpc-health-probe/src/main.js <host:port> [service]
 * exits 0 when grpc.health.v1 answers SERVING, 1 otherwise (2 for bad usage). It dials with the
 * container's INTERNAL_TLS settings, as the service itself does.
 */
async function main(): Promise<number> {
  const config = loadConfigOrExit('grpc-health-probe', healthProbeConfigSchema);
  // The warning about INTERNAL_TLS=off is the service's to print, not every probe's.
  const transport = await awaitConfigOrExit(
    'grpc-health-probe',
    loadInternalTransport(config, () => undefined),
  );
  return probe(
    process.argv.slice(2),
    {
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    },
    transport,
  );
}

void main().then((code) => process.exit(code));
