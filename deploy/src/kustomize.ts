import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './manifests';

/** A Kubernetes object as a manifest gives it; the tests read further fields as they need. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** The kustomize that operators run: `kubectl kustomize` (kustomize v5 is built in), else `kustomize build`. */
function kustomizeCommand(): [string, string[]] {
  for (const [command, args] of [
    ['kubectl', ['kustomize']],
    ['kustomize', ['build']],
  ] as const) {
    try {
      execFileSync(command, ['version', ...(command === 'kubectl' ? ['--client'] : [])], { stdio: 'ignore' });
      return [command, [...args]];
    } catch {
      // Not on the PATH: try the next.
    }
  }
  throw new Error(
    'rendering k8s/ needs kubectl (kustomize built in) or kustomize on the PATH: https://kubernetes.io/docs/tasks/tools/',
  );
}

/** `dir` (a kustomization) rendered as `kubectl apply -k` would apply it. */
export function render(dir: string): K8sObject[] {
  const [command, args] = kustomizeCommand();
  const text = execFileSync(command, [...args, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${dir}: ${doc.errors[0]?.message}`);
    const object = doc.toJSON() as K8sObject;
    // kustomize prints long base64 values folded over lines; the API server reads them unfolded.
    if (object.kind === 'Secret' && object.data) {
      object.data = Object.fromEntries(Object.entries(object.data).map(([k, v]) => [k, v.replace(/\s/g, '')]));
    }
    return object;
  });
}

/**
 * The three renderings an operator can apply or build on: the base and both overlays. The dev
 * overlay is rendered from a copy of k8s/ whose secrets/ the real `k8s:dev-secrets` script
 * filled (it needs dist/, which the test setup builds), as a developer's would be.
 */
export function renderAll(): { base: K8sObject[]; dev: K8sObject[]; prod: K8sObject[]; devSecretsDir: string; cleanup(): void } {
  const copy = mkdtempSync(join(tmpdir(), 'cloudstore-k8s-'));
  cpSync(join(REPO_ROOT, 'k8s'), copy, { recursive: true, filter: (source) => !source.includes('/overlays/dev/secrets') });
  const devSecretsDir = join(copy, 'overlays/dev/secrets');
  execFileSync('node', [join(REPO_ROOT, 'dist/tools/local-cluster/src/k8s-dev-secrets.js'), devSecretsDir], {
    stdio: 'ignore',
  });
  return {
    base: render(join(REPO_ROOT, 'k8s/base')),
    dev: render(join(copy, 'overlays/dev')),
    prod: render(join(REPO_ROOT, 'k8s/overlays/prod')),
    devSecretsDir,
    cleanup: () => rmSync(copy, { recursive: true, force: true }),
  };
}

/** The model class that validates `object` against its Kubernetes (or CRD) OpenAPI schema. */
export function schemaModelOf(object: K8sObject): { new (data: unknown): { validate(): void } } {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : [undefined, object.apiVersion];
  const modules: Record<string, string> = {
    'cert-manager.io': '@kubernetes-models/cert-manager/cert-manager.io',
    'monitoring.coreos.com': '@kubernetes-models/prometheus-operator/monitoring.coreos.com',
  };
  const base = group === undefined ? 'kubernetes-models' : (modules[group] ?? `kubernetes-models/${group}`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module is chosen by apiVersion
  const module = require(`${base}/${version}/${object.kind}`) as Record<string, never>;
  const model = module[object.kind];
  if (!model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  return model;
}
