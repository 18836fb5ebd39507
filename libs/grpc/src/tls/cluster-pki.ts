import { createPrivateKey, type KeyObject } from 'node:crypto';
import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileOnce } from '@cloudstore/durable-files';
import { generateTlsKey, issueCertificate } from './x509-issuer';
import { serviceIdentity } from './internal-transport';

/** Where the local cluster's services are reachable, so where their certificates are valid. */
export const DEV_PKI_HOSTS: readonly string[] = ['localhost', '127.0.0.1'];

const CA_NAME = 'cloudstore dev CA';
const CA_VALID_DAYS = 3650;
const SERVICE_VALID_DAYS = 825;

/** The files of one service in a cluster PKI folder, as the INTERNAL_* variables name them. */
export function clusterPkiFiles(
  dir: string,
  service: string,
): { INTERNAL_CA_FILE: string; INTERNAL_CERT_FILE: string; INTERNAL_KEY_FILE: string } {
  return {
    INTERNAL_CA_FILE: join(dir, 'ca.crt'),
    INTERNAL_CERT_FILE: join(dir, `${service}.crt`),
    INTERNAL_KEY_FILE: join(dir, `${service}.key`),
  };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The key at `path`, created (0600) unless it exists; when processes race, all get the one that won. */
async function keyOnce(path: string, created: string[]): Promise<KeyObject> {
  if (!(await exists(path)) && (await createFileOnce(path, generateTlsKey().pem, 0o600))) created.push(path);
  return createPrivateKey(await readFile(path));
}

async function certificateOnce(path: string, issue: () => string, created: string[]): Promise<void> {
  if (!(await exists(path)) && (await createFileOnce(path, issue(), 0o644))) created.push(path);
}

/**
 * A development PKI in `dir`: a CA (`ca.crt`, `ca.key`) and, per name in `services`,
 * `<name>.crt` and `<name>.key` valid for `hosts` and naming the service with the SAN URI
 * `spiffe://cloudstore/<name>`. What exists is kept, so it is created once and then reused;
 * processes that race end with one consistent set (each certificate is issued for the key that
 * won). Returns the files this call created.
 */
export async function ensureClusterPki(
  dir: string,
  services: readonly string[],
  hosts: readonly string[] = DEV_PKI_HOSTS,
): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const created: string[] = [];
  const caKey = await keyOnce(join(dir, 'ca.key'), created);
  const issueCa = () => issueCertificate({ commonName: CA_NAME, key: caKey, validDays: CA_VALID_DAYS, ca: true });
  await certificateOnce(join(dir, 'ca.crt'), issueCa, created);
  for (const service of services) {
    const files = clusterPkiFiles(dir, service);
    const key = await keyOnce(files.INTERNAL_KEY_FILE, created);
    const issue = () =>
      issueCertificate({
        commonName: service,
        key,
        validDays: SERVICE_VALID_DAYS,
        uri: serviceIdentity(service),
        hosts,
        issuer: { commonName: CA_NAME, key: caKey },
      });
    await certificateOnce(files.INTERNAL_CERT_FILE, issue, created);
  }
  return created;
}
