import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterPkiFiles, ensureClusterPki, type InternalTransport, loadInternalTransport } from '@cloudstore/grpc';

/** A throw-away cluster PKI: a CA and one certificate per service name, in a temporary folder. */
export interface TestPki {
  readonly dir: string;
  /** INTERNAL_TLS=on and the INTERNAL_*_FILE variables of service `name`, for a config or a child's environment. */
  env(name: string): Record<string, string>;
  /** The InternalTransport of service `name`, as its main would build it. */
  transport(name: string): Promise<InternalTransport>;
  remove(): Promise<void>;
}

/** Creates a PKI for `services` (more can be added with `add`) in a new temporary folder. */
export async function createTestPki(
  services: readonly string[],
): Promise<TestPki & { add(names: readonly string[]): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cloudstore-pki-'));
  await ensureClusterPki(dir, services);
  const env = (name: string) => ({ INTERNAL_TLS: 'on', ...clusterPkiFiles(dir, name) });
  return {
    dir,
    env,
    transport: (name) => loadInternalTransport({ ...env(name), INTERNAL_TLS: 'on' }, () => undefined),
    add: async (names) => void (await ensureClusterPki(dir, names)),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
