import { once } from 'node:events';
import { createServer } from 'node:net';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { EXIT_NOT_SERVING, EXIT_SERVING, EXIT_USAGE, probe } from './probe';
import { InternalTransport } from '@cloudstore/grpc';

// The probe's TLS is the transport's concern (internal-transport.spec.ts); here it talks plaintext.
const PLAINTEXT = InternalTransport.plaintext();

function recorder() {
  const lines: string[] = [];
  return { lines, output: { out: (l: string) => lines.push(`out: ${l}`), err: (l: string) => lines.push(`err: ${l}`) } };
}

describe(probe.name, () => {
  let server: Server;
  let address: string;

  beforeAll(async () => {
    server = new Server();
    new HealthImplementation({ '': 'SERVING', 'cloudstore.Draining': 'NOT_SERVING' }).addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    address = `127.0.0.1:${port}`;
  });

  afterAll(() => {
    server.forceShutdown();
  });

  it('exits 0 and prints the status when the server is SERVING', async () => {
    const { lines, output } = recorder();
    await expect(probe([address], output, PLAINTEXT)).resolves.toBe(EXIT_SERVING);
    expect(lines).toEqual([`out: ${address}: SERVING`]);
  });

  it('exits 1 for a service that is not serving', async () => {
    const { lines, output } = recorder();
    await expect(probe([address, 'cloudstore.Draining'], output, PLAINTEXT)).resolves.toBe(EXIT_NOT_SERVING);
    expect(lines).toEqual([`out: ${address}: NOT_SERVING`]);
  });

  it('exits 1 with the reason when the service is unknown or nothing answers in time', async () => {
    const unknown = recorder();
    await expect(probe([address, 'no.Such'], unknown.output, PLAINTEXT)).resolves.toBe(EXIT_NOT_SERVING);
    expect(unknown.lines).toEqual([expect.stringMatching(/^err: 127\.0\.0\.1:\d+: /)]);

    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as { port: number };
    await new Promise((resolve) => closed.close(resolve));
    const silent = recorder();
    const started = Date.now();
    await expect(probe([`127.0.0.1:${port}`], silent.output, PLAINTEXT, 500)).resolves.toBe(EXIT_NOT_SERVING);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(silent.lines).toEqual([expect.stringMatching(/^err: /)]);
  });

  it('exits 2 with the usage when no address is given', async () => {
    const { lines, output } = recorder();
    await expect(probe([], output, PLAINTEXT)).resolves.toBe(EXIT_USAGE);
    expect(lines).toEqual(['err: usage: grpc-health-probe <host:port> [service]']);
  });
});
