import { ConfigError, loadConfig, localClusterConfigSchema } from '@cloudstore/config';
import { LocalCluster } from './local-cluster';

/**
 * `npm run certs [-- name…]`: creates the local cluster's dev PKI under DATA_DIR/pki (what
 * `npm start` would create on its first run), plus certificates for any names given (e.g. the
 * Kubernetes nodes storage-node-0…), and keeps whatever exists.
 */
async function main(): Promise<void> {
  const config = loadConfig(localClusterConfigSchema);
  // eslint-disable-next-line no-restricted-syntax -- as npm start, which passes the environment on
  const cluster = new LocalCluster(config, process.env, {
    output: () => undefined,
    started: () => undefined,
    exited: () => undefined,
    fatal: () => undefined,
  });
  if (!cluster.pkiDir) {
    process.stdout.write('cloudstore: nothing to create (INTERNAL_TLS is off, or INTERNAL_*_FILE are given)\n');
    return;
  }
  const more = process.argv.slice(2);
  const created = await cluster.ensurePki(more);
  process.stdout.write(
    `cloudstore: dev PKI in ${cluster.pkiDir} for ${[...cluster.serviceNames, ...more].join(', ')}: ${created.length ? `created ${created.length} files` : 'all present'}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`cloudstore: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
