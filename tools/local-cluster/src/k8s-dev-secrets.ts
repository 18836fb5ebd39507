import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createFileOnce } from '@cloudstore/durable-files';
import { ensureClusterPki } from '@cloudstore/grpc';
import { MASTER_KEY_BYTES } from '@cloudstore/master-key';

/** Where k8s/overlays/dev's secretGenerator reads (git-ignored). */
const DEV_SECRETS_DIR = 'k8s/overlays/dev/secrets';

/** The storage nodes the dev overlay has certificates for (its secretGenerator lists them). */
const DEV_STORAGE_NODES = 5;

/** Hex: safe inside a URL's userinfo with no escaping. */
function password(): string {
  return randomBytes(24).toString('hex');
}

/** The dotenv files of the dev overlay's Secrets, by file name. */
function devSecretFiles(): Record<string, Record<string, string>> {
  const database = password();
  const redis = password();
  return {
    'database.env': {
      DATABASE_URL: `postgres://cloudstore:${database}@postgres:5432/cloudstore`,
      POSTGRES_PASSWORD: database,
    },
    'redis.env': { REDIS_URL: `redis://:${redis}@redis:6379/0`, REDIS_PASSWORD: redis },
    'master-key.env': { MASTER_KEY: randomBytes(MASTER_KEY_BYTES).toString('base64') },
    'admin.env': { ADMIN_USERNAME: 'admin', ADMIN_EMAIL: 'admin@cloudstore.test', ADMIN_PASSWORD: password() },
  };
}

/**
 * Creates what k8s/overlays/dev generates its Secrets from, in `dir`: random passwords, a master
 * key, the first admin, and a dev CA with certificates for the services and DEV_STORAGE_NODES
 * nodes. What exists is kept, so the dev cluster's data stays readable across runs (above all
 * its master key). Returns the files created.
 */
async function ensureDevSecrets(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const created: string[] = [];
  for (const [file, values] of Object.entries(devSecretFiles())) {
    const text = Object.entries(values)
      .map(([name, value]) => `${name}=${value}\n`)
      .join('');
    if (await createFileOnce(join(dir, file), text, 0o600)) created.push(join(dir, file));
  }
  const nodes = Array.from({ length: DEV_STORAGE_NODES }, (_, i) => `storage-node-${i}`);
  created.push(...(await ensureClusterPki(join(dir, 'pki'), ['gateway', 'auth', 'metadata', ...nodes])));
  return created;
}

/** `npm run k8s:dev-secrets [-- dir]`. */
async function main(): Promise<void> {
  const dir = resolve(process.argv[2] ?? DEV_SECRETS_DIR);
  const created = await ensureDevSecrets(dir);
  process.stdout.write(
    `cloudstore: dev cluster secrets in ${dir}: ${created.length ? `created ${created.length} files` : 'all present'}; ` +
      `the admin's password is in admin.env. Keep this folder: it holds the master key of your dev data.\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`cloudstore: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
