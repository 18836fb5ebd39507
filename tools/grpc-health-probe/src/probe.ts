import { checkGrpcHealth, type InternalTransport } from '@cloudstore/grpc';

export const EXIT_SERVING = 0;
export const EXIT_NOT_SERVING = 1;
export const EXIT_USAGE = 2;

export interface ProbeOutput {
  out(line: string): void;
  err(line: string): void;
}

/**
 * Asks grpc.health.v1 at `<host:port>` about `[service]` (the whole server when omitted) and
 * returns the exit code (over `transport`, the container's internal mutual TLS): 0 when SERVING, 1 for any other status or no answer, 2 for bad usage.
 */
export async function probe(
  args: readonly string[],
  output: ProbeOutput,
  transport: InternalTransport,
  timeoutMs = 3000,
): Promise<number> {
  const [address, service = ''] = args;
  if (!address) {
    output.err('usage: grpc-health-probe <host:port> [service]');
    return EXIT_USAGE;
  }
  try {
    const status = await checkGrpcHealth(address, transport, service, timeoutMs);
    output.out(`${address}: ${status}`);
    return status === 'SERVING' ? EXIT_SERVING : EXIT_NOT_SERVING;
  } catch (error) {
    output.err(error instanceof Error ? error.message : String(error));
    return EXIT_NOT_SERVING;
  }
}
