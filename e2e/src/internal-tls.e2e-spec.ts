import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CODE_BAD_CONFIG } from '@cloudstore/config';
import { checkGrpcHealth, InternalTransport } from '@cloudstore/grpc';
import { createTestPki, findFreePortRange, type TestPki, waitFor } from '@cloudstore/testing';
import { ServiceProcess } from './support/service-process';

describe('internal TLS settings at a service start', () => {
  let dataDir: string;
  let pki: TestPki;
  /** A storage node as its own process: it needs neither PostgreSQL nor metadata to serve. */
  let node: ServiceProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cloudstore-tls-e2e-'));
    pki = await createTestPki(['node-t', 'gateway']);
  });

  afterEach(async () => {
    await node?.stop();
    node = undefined;
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await pki.remove();
  });

  async function nodeEnv(): Promise<Record<string, string>> {
    const port = await findFreePortRange(1);
    return {
      DATA_DIR: dataDir,
      STORAGE_NODE_ID: 'node-t',
      STORAGE_NODE_PORT: String(port),
      METADATA_ADDRESS: '127.0.0.1:1',
    };
  }

  it('serves mutual TLS with its certificate, and nothing else', async () => {
    const env = await nodeEnv();
    node = new ServiceProcess('storage-node', { ...env, ...pki.env('node-t') });
    const address = `127.0.0.1:${env['STORAGE_NODE_PORT']}`;
    const gateway = await pki.transport('gateway');
    await waitFor(
      'the node serving',
      () =>
        checkGrpcHealth(address, gateway, '', 500).then(
          (s) => s === 'SERVING',
          () => false,
        ),
      15_000,
    );
    await expect(checkGrpcHealth(address, InternalTransport.plaintext(), '', 1000)).rejects.toThrow(address);
    expect(node.lines.join('\n')).not.toContain('INTERNAL_TLS=off');
  });

  it('stops at once with one line naming the variable when a file is bad', async () => {
    node = new ServiceProcess('storage-node', {
      ...(await nodeEnv()),
      ...pki.env('node-t'),
      INTERNAL_KEY_FILE: pki.env('gateway')['INTERNAL_KEY_FILE'] ?? '',
    });
    expect(await node.exited).toBe(EXIT_CODE_BAD_CONFIG);
    expect(node.lines).toEqual(['storage-node: INTERNAL_KEY_FILE is not the key of the certificate in INTERNAL_CERT_FILE']);
  });

  it('with INTERNAL_TLS=off serves plaintext, and warns at every start', async () => {
    const env = await nodeEnv();
    const address = `127.0.0.1:${env['STORAGE_NODE_PORT']}`;
    for (let start = 0; start < 2; start += 1) {
      node = new ServiceProcess('storage-node', { ...env, INTERNAL_TLS: 'off' });
      await waitFor(
        'the node serving',
        () =>
          checkGrpcHealth(address, InternalTransport.plaintext(), '', 500).then(
            (s) => s === 'SERVING',
            () => false,
          ),
        15_000,
      );
      expect(node.lines.filter((l) => l.includes('INTERNAL_TLS=off'))).toEqual([expect.stringContaining('"level":"warn"')]);
      await node.stop();
    }
  });
});
