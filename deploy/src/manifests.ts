import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_CONFIG_SCHEMAS, type AppName } from '@cloudstore/config';
import { parse, parseAllDocuments } from 'yaml';

export const REPO_ROOT = join(__dirname, '../..');

/** The app a container runs, from its command `node dist/apps/<app>/src/main.js`. */
export function appOfCommand(command: unknown): AppName | undefined {
  if (!Array.isArray(command)) return undefined;
  const script = command.find((part): part is string => typeof part === 'string' && part.startsWith('dist/apps/'));
  const app = script ? /^dist\/apps\/([^/]+)\/src\/main\.js$/.exec(script)?.[1] : undefined;
  return app && app in APP_CONFIG_SCHEMAS ? (app as AppName) : undefined;
}

/** A `node dist/….js` script exists in the sources as the matching .ts file. */
export function sourceOfScriptExists(script: string): boolean {
  return existsSync(join(REPO_ROOT, script.replace(/^dist\//, '').replace(/\.js$/, '.ts')));
}

export interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, unknown>;
}

/**
 * docker-compose.yml as `docker compose` reads it with nothing set in the shell or a `.env`:
 * `${VAR:-default}` in the environment becomes the default (or empty).
 */
export function loadCompose(): { services: Record<string, ComposeService>; volumes: Record<string, unknown> } {
  const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  };
  for (const service of Object.values(compose.services)) {
    for (const [name, value] of Object.entries(service.environment ?? {})) {
      (service.environment as Record<string, string>)[name] = String(value).replace(
        /\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}/g,
        (_, fallback: string | undefined) => fallback ?? '',
      );
    }
  }
  return compose;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export function loadK8s(): { file: string; object: K8sObject }[] {
  const dir = join(REPO_ROOT, 'k8s');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((doc) => {
        if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
        return { file, object: doc.toJSON() as K8sObject };
      }),
    );
}

export function loadKustomization(): { resources: string[]; namespace: string } {
  return parse(readFileSync(join(REPO_ROOT, 'k8s/kustomization.yaml'), 'utf8')) as never;
}
